#include "board.h"

extern uint32_t _data_load, _data_start, _data_end, _bss_start, _bss_end;
extern uint32_t _stack_top, _stack_bottom;

int main(void);
void reset_handler(void);
void default_handler(void);
void systick_handler(void);

#define REG(a) (*(volatile uint32_t *)(a))
#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x00)
#define UART_STATE REG(UART0 + 0x04)
#define UART_CTRL REG(UART0 + 0x08)
#define UART_BAUDDIV REG(UART0 + 0x10)
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define CPACR REG(0xE000ED88u)
#define CLOCK_HZ 25000000u
#define STACK_PAINT 0xC5C5C5C5u

static volatile uint32_t millis;

/* The vector table: the stack's top, reset, then every handler. */
typedef void (*handler)(void);
struct vector_table {
    uint32_t *stack_top;
    handler handlers[15 + 32];
};
__attribute__((section(".vectors"), used)) static const struct vector_table vectors = {
    &_stack_top,
    {reset_handler, default_handler, default_handler, default_handler, default_handler,
     default_handler, 0, 0, 0, 0, default_handler, default_handler, 0, default_handler,
     systick_handler},
};

void reset_handler(void) {
    uint32_t *src = &_data_load, *dst = &_data_start;
    uint32_t *sp;
    while (dst < &_data_end) *dst++ = *src++;
    for (dst = &_bss_start; dst < &_bss_end; dst++) *dst = 0;
    /* Paint the stack below the current frame. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (dst = &_stack_bottom; dst < sp - 16; dst++) *dst = STACK_PAINT;
    /* The library is built for the hard-float ABI: the FPU on first. */
    CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb");
    board_exit(main() == 0);
}

void default_handler(void) {
    say("fault");
    board_exit(0);
}

void systick_handler(void) { millis++; }

void board_init(void) {
    UART_BAUDDIV = 16;
    UART_CTRL = 3; /* TX and RX */
    SYST_RVR = CLOCK_HZ / 1000 - 1;
    SYST_CVR = 0;
    SYST_CSR = 7; /* core clock, interrupt, on */
}

uint64_t board_millis(void) { return millis; }

void uart_put(uint8_t b) {
    while (UART_STATE & 1u) {
    }
    UART_DATA = b;
}

uint8_t uart_get(void) {
    while (!(UART_STATE & 2u)) {
    }
    return (uint8_t)UART_DATA;
}

/* ARM semihosting: operation in r0, argument in r1, bkpt 0xAB. */
static uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void say(const char *s) {
    semihost(0x04, s); /* SYS_WRITE0 */
    semihost(0x04, "\n");
}

void board_exit(int ok) {
    /* SYS_EXIT: ADP_Stopped_ApplicationExit, or RunTimeErrorUnknown. */
    semihost(0x18, (const void *)(ok ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

size_t board_stack_peak(void) {
    const uint32_t *p = &_stack_bottom;
    while (p < &_stack_top && *p == STACK_PAINT) p++;
    return (size_t)((const char *)&_stack_top - (const char *)p);
}

/* The library's panic handler ends here (no_std build): none is expected. */
void ll_abort(void) __attribute__((noreturn));
void ll_abort(void) {
    say("lastline-ffi: panic");
    board_exit(0);
    for (;;) {
    }
}
