#pragma once
// Interrupting blocked network waits: a process-wide flag and a self-pipe.
//
// A program's SIGINT/SIGTERM handler calls request_interrupt(); every wait of
// the network backends (Redis replies and connects, DynamoDB requests and
// their retry backoffs) polls interrupt_fd() beside its socket, so one signal
// ends the wait at once, whatever thread it reached. The interrupted
// operation throws StorageError (backend, unavailable) saying it was
// interrupted; the connection it used is closed, never left half-read.
//
// A program that never calls request_interrupt() sees no change.

#include <chrono>

namespace taskstore {

// Sets the interrupt flag and makes interrupt_fd() readable. Async-signal-safe
// (an atomic store and one non-blocking write(2); errno is preserved), so it
// may be called from a signal handler. Idempotent.
void request_interrupt() noexcept;

// Returns true once request_interrupt() has been called (until
// clear_interrupt()).
bool interrupt_requested() noexcept;

// Returns a file descriptor that polls readable (POLLIN) while an interrupt is
// requested, for a poll(2) beside a socket; -1 when the pipe could not be
// created (then only interrupt_requested() tells). Never read it: it stays
// readable so that every waiter wakes. Created on first use; call it once
// before installing a signal handler so the handler finds it ready.
int interrupt_fd() noexcept;

// Clears the flag and empties the pipe, for a program that carries on after
// handling an interrupt (and for tests). Not async-signal-safe.
void clear_interrupt() noexcept;

// Waits for duration, or less when an interrupt is requested. Returns true
// when interrupted (before or during the wait), false when the time passed.
bool sleep_unless_interrupted(std::chrono::milliseconds duration) noexcept;

} // namespace taskstore
