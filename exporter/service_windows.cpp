// The Windows service: install/uninstall/start/stop through the service manager, and the
// service entry point.
#include <windows.h>

#include <cstdio>
#include <string>

#include "exporter/daemon.h"
#include "exporter/event_log.h"
#include "exporter/lifecycle.h"
#include "exporter/logging.h"
#include "exporter/service.h"
#include "collectors/common/wide_windows.h"

namespace portwarden {
namespace {

constexpr wchar_t kServiceName[] = L"portwarden";
constexpr wchar_t kDisplayName[] = L"portwarden port ownership exporter";
constexpr wchar_t kDescription[] =
    L"Samples who owns which address:port (including HTTP.sys on PID 4), serves Prometheus "
    L"metrics on :10061 and alerts on port-ownership drift.";

int Fail(const char* what) {
  std::fprintf(stderr, "portwarden: error: %s failed: 0x%08lx\n", what,
               static_cast<unsigned long>(GetLastError()));
  return 1;
}

// Quotes one command-line argument the way CommandLineToArgvW splits it back.
std::wstring Quote(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    out.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, L'\\');
  return out + L"\"";
}

// What `install` sets beyond CreateServiceW, and `configure` sets on a service the MSI
// created (the ServiceInstall table has no failure actions or delayed start). A setting that
// does not apply is reported and makes the exit code 1; the others are still applied.
int Configure(SC_HANDLE svc) {
  int rc = 0;
  auto configure = [&](DWORD level, void* info, const char* what) {
    if (!ChangeServiceConfig2W(svc, level, info)) rc = Fail(what);
  };
  SERVICE_DESCRIPTIONW description{const_cast<wchar_t*>(kDescription)};
  configure(SERVICE_CONFIG_DESCRIPTION, &description, "ChangeServiceConfig2W(description)");
  // Delayed auto-start: after the boot-critical services, HTTP.sys's consumers included.
  SERVICE_DELAYED_AUTO_START_INFO delayed{TRUE};
  configure(SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed,
            "ChangeServiceConfig2W(delayed auto-start)");
  // Restart on failure after 5 s, 10 s, then every 60 s; the count resets after a day.
  SC_ACTION actions[3] = {{SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 10000},
                          {SC_ACTION_RESTART, 60000}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = 24 * 60 * 60;
  failure.cActions = 3;
  failure.lpsaActions = actions;
  configure(SERVICE_CONFIG_FAILURE_ACTIONS, &failure, "ChangeServiceConfig2W(failure actions)");
  return rc;
}

int Install(const Options& options) {
  wchar_t exe[MAX_PATH * 2];
  if (GetModuleFileNameW(nullptr, exe, static_cast<DWORD>(std::size(exe))) == 0) {
    return Fail("GetModuleFileNameW");
  }
  std::wstring command = Quote(exe) + L" service run";
  for (const auto& f : options.flags) command += L" " + Quote(Wide(f));

  SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE);
  if (scm == nullptr) return Fail("OpenSCManagerW (run as Administrator)");
  SC_HANDLE svc = CreateServiceW(scm, kServiceName, kDisplayName, SERVICE_ALL_ACCESS,
                                 SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                 SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr,
                                 nullptr, nullptr, nullptr);
  if (svc == nullptr) {
    int rc = Fail("CreateServiceW");
    CloseServiceHandle(scm);
    return rc;
  }
  // The service exists from here on; a setting that does not apply is reported, and the
  // exit code says so, but the service is kept (uninstall removes it).
  int rc = Configure(svc);
  std::printf("service portwarden installed: %ls\n", command.c_str());
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

int Control(const std::string& action) {
  SC_HANDLE scm = OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT);
  if (scm == nullptr) return Fail("OpenSCManagerW");
  SC_HANDLE svc = OpenServiceW(scm, kServiceName,
                               SERVICE_START | SERVICE_STOP | DELETE | SERVICE_QUERY_STATUS |
                                   SERVICE_CHANGE_CONFIG);
  int rc = 0;
  if (svc == nullptr) {
    rc = Fail("OpenServiceW (is the service installed?)");
  } else if (action == "configure") {
    rc = Configure(svc);
  } else if (action == "start") {
    if (!StartServiceW(svc, 0, nullptr)) rc = Fail("StartServiceW");
  } else if (action == "stop") {
    SERVICE_STATUS status{};
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &status)) rc = Fail("ControlService(STOP)");
  } else if (action == "uninstall") {
    SERVICE_STATUS status{};
    ControlService(svc, SERVICE_CONTROL_STOP, &status);  // not running is fine
    if (!DeleteService(svc)) rc = Fail("DeleteService");
  }
  if (rc == 0) std::printf("service portwarden: %s done\n", action.c_str());
  if (svc != nullptr) CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

// State shared with the service entry points, which the SCM calls without a context.
const Options* g_options = nullptr;
SERVICE_STATUS_HANDLE g_status_handle = nullptr;
SERVICE_STATUS g_status{};

void SetState(DWORD state, DWORD exit_code = NO_ERROR, DWORD wait_hint_ms = 0) {
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwControlsAccepted =
      state == SERVICE_RUNNING
          ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE
          : 0;
  g_status.dwWin32ExitCode = exit_code == NO_ERROR ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  g_status.dwServiceSpecificExitCode = exit_code;
  g_status.dwWaitHint = wait_hint_ms;
  ++g_status.dwCheckPoint;
  SetServiceStatus(g_status_handle, &g_status);
}

DWORD WINAPI Handler(DWORD control, DWORD, void*, void*) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      SetState(SERVICE_STOP_PENDING, NO_ERROR, 10000);
      ControlEvents::Post(ControlEvent::kStop);
      return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:  // Windows has no SIGHUP: this is the reload
      ControlEvents::Post(ControlEvent::kReload);
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI ServiceMain(DWORD, wchar_t**) {
  // Register first so the SCM hears from us at once; config and sockets come after.
  g_status_handle = RegisterServiceCtrlHandlerExW(kServiceName, Handler, nullptr);
  if (g_status_handle == nullptr) return;
  SetState(SERVICE_START_PENDING, NO_ERROR, 10000);
  auto log = ComponentLogger("service");
  Daemon daemon(*g_options);
  auto started = daemon.Start();
  if (!started) {
    Log(*log, spdlog::level::critical, started.error().message);
    SetState(SERVICE_STOPPED, 1);
    return;
  }
  SetState(SERVICE_RUNNING);
  while (ControlEvents::Wait() == ControlEvent::kReload) daemon.Reload();
  Log(*log, spdlog::level::info, "shutting down");
  daemon.Stop();
  SetState(SERVICE_STOPPED);
}

}  // namespace

int RunServiceCommand(const Options& options) {
  if (options.service_action == "install") return Install(options);
  if (options.service_action != "run") return Control(options.service_action);
  // A service has no console: log to %ProgramData%\portwarden\portwarden.log.
  wchar_t data[MAX_PATH];
  DWORD n = GetEnvironmentVariableW(L"ProgramData", data, MAX_PATH);
  std::wstring dir = (n > 0 && n < MAX_PATH ? std::wstring(data, n) : L"C:\\ProgramData") +
                     L"\\portwarden";
  CreateDirectoryW(dir.c_str(), nullptr);
  std::string log_file(dir.begin(), dir.end());  // ProgramData is ASCII on every install
  if (auto ok = InitLogging(options.log_level, options.log_format, log_file + "\\portwarden.log");
      !ok) {
    std::fprintf(stderr, "portwarden: error: %s\n", ok.error().message.c_str());
    return 1;
  }
  // Warnings, errors and the transitions admins filter on also go to the Application log.
  if (auto event_log = OpenApplicationLog(); event_log) {
    SetLogTap(std::move(*event_log));
  } else {
    Log(*ComponentLogger("service"), spdlog::level::warn,
        "no Event Log; logging to the file only", {{"err", event_log.error().message}});
  }
  g_options = &options;
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(kServiceName), ServiceMain},
                                  {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    return Fail("StartServiceCtrlDispatcherW (service run is for the service manager; use run)");
  }
  return 0;
}

}  // namespace portwarden
