/* The board: mps2-an386 under QEMU. UART0 to the relay, SysTick as the
 * millisecond clock, semihosting for output and the exit status. */
#ifndef BOARD_H
#define BOARD_H

#include <stddef.h>
#include <stdint.h>

void board_init(void);
uint64_t board_millis(void);
void uart_put(uint8_t b);
uint8_t uart_get(void);
/* A line on QEMU's stdout. */
void say(const char *s);
/* Ends the run: QEMU exits 0 (ok != 0) or 1. */
void board_exit(int ok);
/* The stack's deepest use so far, in bytes (painted at reset). */
size_t board_stack_peak(void);

#endif
