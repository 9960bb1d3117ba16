// Graceful stop: SIGINT / SIGTERM ask the trainer to finish the current step,
// write its checkpoint and summary, and return. A second signal kills at once.
#pragma once

namespace gps {

// Installs the SIGINT/SIGTERM handlers (the CLI calls this; the library never does).
void install_stop_handlers();
// True once a stop was requested (by a signal or request_stop).
bool stop_requested();
// Requests (true) or withdraws (false) a stop, e.g. from tests or an embedding program.
void request_stop(bool on = true);

}  // namespace gps
