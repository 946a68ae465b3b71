#include <gtest/gtest.h>

#include "collectors/httpsys/netsh_parse.h"
#include "tests/unit/httpsys/fixture.h"

namespace portwarden::httpsys {
namespace {

using testing::ReadWindowsFixture;
using testing::WithCrlf;
using Urls = std::vector<std::string>;

ServiceState MustParse(std::string_view text) {
  Expected<ServiceState> state = ParseServiceState(text);
  EXPECT_TRUE(state.ok()) << (state.ok() ? "" : state.error().message);
  return state.ok() ? *state : ServiceState{};
}

TEST(ParseServiceState, SessionViewNewFormatWinRmAndWcf) {
  ServiceState state =
      MustParse(ReadWindowsFixture("netsh-servicestate-session-en-3-newformat-winrm-wcf.txt"));
  EXPECT_EQ(state.skipped, 0);
  ASSERT_EQ(state.queues.size(), 2u);

  const RequestQueue& winrm = state.queues[0];
  EXPECT_EQ(winrm.name, "");
  EXPECT_EQ(winrm.version, "1.0");
  // Run without admin rights: the image is "<?>".
  EXPECT_EQ(winrm.processes, (std::vector<QueueProcess>{{1412, "", {}}}));
  EXPECT_FALSE(winrm.controller_pid);
  EXPECT_EQ(winrm.urls, (Urls{"HTTP://+:5985/WSMAN/", "HTTP://+:47001/WSMAN/"}));
  EXPECT_FALSE(winrm.urls_from_groups);

  const RequestQueue& wcf = state.queues[1];
  EXPECT_EQ(wcf.version, "2.0");
  EXPECT_EQ(wcf.processes, (std::vector<QueueProcess>{{4796, "", {}}}));
  EXPECT_EQ(wcf.urls, (Urls{"HTTP://+:8000/MONITORSERVICE/"}));

  ASSERT_EQ(state.url_groups.size(), 2u);
  EXPECT_EQ(state.url_groups[0].id, "FE00000020000001");
  EXPECT_EQ(state.url_groups[0].request_queue, std::optional<std::string>(""));
  EXPECT_EQ(state.url_groups[0].urls, winrm.urls);
  EXPECT_EQ(state.url_groups[1].id, "FC00000020000001");
  EXPECT_EQ(state.url_groups[1].urls, wcf.urls);
}

TEST(ParseServiceState, SessionViewOldFormatIisTakesUrlsFromGroups) {
  ServiceState state =
      MustParse(ReadWindowsFixture("netsh-servicestate-session-en-4-iis-defaultapppool.txt"));
  EXPECT_EQ(state.skipped, 0);
  ASSERT_EQ(state.queues.size(), 2u);

  const RequestQueue& unnamed = state.queues[0];
  EXPECT_EQ(unnamed.name, "");
  EXPECT_EQ(unnamed.version, "1.0");
  EXPECT_EQ(unnamed.processes, (std::vector<QueueProcess>{{3416, "", {}}}));
  EXPECT_FALSE(unnamed.controller_pid);
  EXPECT_EQ(unnamed.urls, (Urls{"HTTP://+:5985/WSMAN/", "HTTP://+:47001/WSMAN/"}));
  EXPECT_TRUE(unnamed.urls_from_groups);

  const RequestQueue& pool = state.queues[1];
  EXPECT_EQ(pool.name, "DefaultAppPool");
  EXPECT_EQ(pool.version, "2.0");
  EXPECT_TRUE(pool.processes.empty());
  EXPECT_EQ(pool.controller_pid, std::optional<uint32_t>(3408));
  EXPECT_EQ(pool.urls, (Urls{"HTTP://127.0.0.1:8000:127.0.0.1/"}));
  EXPECT_TRUE(pool.urls_from_groups);

  ASSERT_EQ(state.url_groups.size(), 2u);
  EXPECT_EQ(state.url_groups[0].id, "FE00000140000001");
  EXPECT_EQ(state.url_groups[0].request_queue, std::optional<std::string>(""));
  EXPECT_EQ(state.url_groups[1].id, "FF00000040000001");
  EXPECT_EQ(state.url_groups[1].request_queue, std::optional<std::string>("DefaultAppPool"));
}

TEST(ParseServiceState, RequestQueueViewOldFormat) {
  ServiceState state =
      MustParse(ReadWindowsFixture("netsh-servicestate-requestq-synth-1-oldformat.txt"));
  EXPECT_EQ(state.skipped, 0);
  ASSERT_EQ(state.queues.size(), 3u);

  EXPECT_EQ(state.queues[0].name, "");
  EXPECT_EQ(state.queues[0].processes, (std::vector<QueueProcess>{{944, "", {}}}));
  EXPECT_EQ(state.queues[0].urls, (Urls{"HTTP://+:5985/WSMAN/", "HTTP://+:47001/WSMAN/"}));
  EXPECT_FALSE(state.queues[0].urls_from_groups);

  const RequestQueue& pool = state.queues[1];
  EXPECT_EQ(pool.name, "DefaultAppPool");
  EXPECT_EQ(pool.processes, (std::vector<QueueProcess>{{5120, "", {}}, {6244, "", {}}}));
  EXPECT_EQ(pool.controller_pid, std::optional<uint32_t>(3408));
  EXPECT_EQ(pool.urls, (Urls{"HTTP://*:80/", "HTTP://10.0.0.5:8080:10.0.0.5/"}));

  const RequestQueue& sharepoint = state.queues[2];
  EXPECT_EQ(sharepoint.name, "SharePoint - 80");
  EXPECT_TRUE(sharepoint.processes.empty());
  EXPECT_EQ(sharepoint.controller_pid, std::optional<uint32_t>(3408));
  EXPECT_EQ(sharepoint.urls, (Urls{"HTTPS://SP.CONTOSO.COM:443/"}));

  // Groups nested in a queue route to it; the nested server sessions are not groups.
  ASSERT_EQ(state.url_groups.size(), 3u);
  EXPECT_EQ(state.url_groups[2].id, "FF00000140000002");
  EXPECT_EQ(state.url_groups[2].request_queue, std::optional<std::string>("SharePoint - 80"));
}

TEST(ParseServiceState, RequestQueueViewNewFormatWithServices) {
  ServiceState state =
      MustParse(ReadWindowsFixture("netsh-servicestate-requestq-synth-2-newformat-services.txt"));
  EXPECT_EQ(state.skipped, 0);
  ASSERT_EQ(state.queues.size(), 3u);

  const RequestQueue& winrm = state.queues[0];
  EXPECT_EQ(winrm.processes,
            (std::vector<QueueProcess>{{1168, "C:\\Windows\\System32\\svchost.exe", {"WinRM"}}}));
  // "Cache hits: 0" and "Number of active processes attached: 1" precede the list: no
  // controller.
  EXPECT_FALSE(winrm.controller_pid);

  const RequestQueue& pool = state.queues[1];
  EXPECT_EQ(pool.name, "DefaultAppPool");
  EXPECT_EQ(pool.controller_pid, std::optional<uint32_t>(3408));
  EXPECT_EQ(pool.processes,
            (std::vector<QueueProcess>{{5120, "C:\\Windows\\System32\\inetsrv\\w3wp.exe", {}},
                                       {6244, "C:\\Windows\\System32\\inetsrv\\w3wp.exe", {}}}));
  EXPECT_EQ(pool.urls, (Urls{"HTTP://*:80/", "HTTPS://*:443/"}));

  const RequestQueue& sdn = state.queues[2];
  EXPECT_EQ(sdn.processes,
            (std::vector<QueueProcess>{
                {2688, "C:\\Windows\\System32\\svchost.exe", {"iphlpsvc", "NcHostAgent"}}}));
  EXPECT_EQ(sdn.urls, (Urls{"HTTPS://+:443/HOSTAGENT/VSWITCH/", "HTTP://LOCALHOST:8081/"}));
}

TEST(ParseServiceState, AbsurdPidAndPortAreSkippedAndCounted) {
  ServiceState state =
      MustParse(WithCrlf("Request queue name: Request queue is unnamed.\n"
                         "    Version: 2.0\n"
                         "    Number of active processes attached: 2\n"
                         "    Processes:\n"
                         "        ID: 99999999999, image: C:\\x.exe\n"
                         "        Services: Ghost\n"
                         "        ID: 4796, image: <?>\n"
                         "    Registered URLs:\n"
                         "        HTTP://+:99999/BAD/\n"
                         "        HTTP://+:8000/GOOD/\n"));
  EXPECT_EQ(state.skipped, 2);
  ASSERT_EQ(state.queues.size(), 1u);
  EXPECT_EQ(state.queues[0].processes, (std::vector<QueueProcess>{{4796, "", {}}}));
  EXPECT_EQ(state.queues[0].urls, (Urls{"HTTP://+:8000/GOOD/"}));
}

TEST(ParseServiceState, TruncatedQueueKeepsWhatWasRead) {
  std::string text = ReadWindowsFixture("netsh-servicestate-session-en-3-newformat-winrm-wcf.txt");
  text = text.substr(0, text.find("            ID: 4796"));
  ServiceState state = MustParse(text);
  ASSERT_EQ(state.queues.size(), 2u);
  EXPECT_TRUE(state.queues[1].processes.empty());
  // Its URLs were cut off too, so it takes the unclaimed unnamed-group URLs.
  EXPECT_EQ(state.queues[1].urls, (Urls{"HTTP://+:8000/MONITORSERVICE/"}));
  EXPECT_TRUE(state.queues[1].urls_from_groups);
}

TEST(ParseServiceState, LocalizedLabelsAreNotNeeded) {
  ServiceState state = MustParse(
      "Snapshot dello stato del servizio HTTP (visualizzazione sessione server):\n"
      "--------------------------------------------------------------------------\n\n"
      "Code di richieste:\n"
      "    Nome coda di richieste: La coda di richieste non ha nome.\n"
      "        Versione: 2.0\n"
      "        Stato: Attivo\n"
      "        Numero massimo di richieste: 1000\n"
      "        Numero di processi attivi collegati: 1\n"
      "        ID processo controller: 3408\n"
      "        ID processi:\n"
      "            5120\n"
      "        URL registrati:\n"
      "            HTTP://+:80/\n");
  ASSERT_EQ(state.queues.size(), 1u);
  EXPECT_EQ(state.queues[0].name, "");
  EXPECT_EQ(state.queues[0].processes, (std::vector<QueueProcess>{{5120, "", {}}}));
  EXPECT_EQ(state.queues[0].controller_pid, std::optional<uint32_t>(3408));
  EXPECT_EQ(state.queues[0].urls, (Urls{"HTTP://+:80/"}));
}

TEST(ParseServiceState, IdleServiceIsNotAnError) {
  ServiceState state = MustParse(
      "\nSnapshot of HTTP service state (Server Session View):\n"
      "-----------------------------------------------------\n\n");
  EXPECT_TRUE(state.queues.empty());
  EXPECT_TRUE(state.url_groups.empty());
}

TEST(ParseServiceState, UnrecognizableTextIsAnError) {
  Expected<ServiceState> state =
      ParseServiceState("The parameter is incorrect.\r\n\r\nUsage: show servicestate\r\n");
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.error().message.find("netsh http show servicestate"), std::string::npos);
  EXPECT_NE(state.error().message.find("The parameter is incorrect."), std::string::npos);
}

}  // namespace
}  // namespace portwarden::httpsys
