#include <windows.h>

#include "exporter/lifecycle.h"

namespace portwarden {

void ControlEvents::Install() {
  // Ctrl-C, Ctrl-Break, console close, logoff and shutdown all mean stop. Returning TRUE
  // keeps the default handler (ExitProcess) from running while we shut down cleanly.
  SetConsoleCtrlHandler(
      [](DWORD) -> BOOL {
        Post(ControlEvent::kStop);
        return TRUE;
      },
      TRUE);
}

// Windows has no per-process descriptor limit to raise for sockets.
unsigned long RaiseDescriptorLimit() { return 0; }

}  // namespace portwarden
