# Sourced by the scripts that start the emulator on loopback: a free port,
# and waiting until something listens on one.

# Prints a TCP port free on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (up to 10 s) until something accepts connections on 127.0.0.1:$1.
wait_listening() {
    for _ in $(seq 1 200); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    return 1
}
