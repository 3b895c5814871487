import Foundation
import MufakatTesting
import Testing

/// The built `mufakat` binary with its own replica folder.
/// A well-formed hub key (the SHA-256 of nothing) for replicas that never sync.
let testHubKey = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"

struct CLI {
    let runner = CommandRunner(product: "mufakat")
    let home: TemporaryDirectory

    init() throws {
        home = try TemporaryDirectory("mufakat-cli")
    }

    @discardableResult
    func run(_ arguments: String...) throws -> CommandRunner.Result {
        try runner.run(arguments + ["--home", home.path])
    }

    /// Runs with --json and parses stdout.
    func json(_ arguments: String...) throws -> (code: Int32, value: Any) {
        let result = try runner.run(arguments + ["--home", home.path, "--json"])
        return (result.exitCode, try result.json())
    }

    static func initialized(name: String = "Andi (IOM)") throws -> CLI {
        let cli = try CLI()
        let result = try cli.run("init", "--hub", "localhost:7420", "--hub-key", testHubKey, "--token", "t0k3n", "--name", name)
        precondition(result.exitCode == 0, result.stderr)
        return cli
    }
}

@Suite("mufakat CLI")
struct CLITests {
    @Test("init creates a replica; a second init refuses to replace it")
    func initReplica() throws {
        let cli = try CLI()
        let (code, value) = try cli.json("init", "--hub", "hub.example.org:7420", "--hub-key", testHubKey, "--token", "abc", "--name", "Sari (UNICEF)")
        #expect(code == 0)
        let object = try #require(value as? [String: Any])
        #expect((object["replica"] as? String)?.count == 16)
        #expect(object["name"] as? String == "Sari (UNICEF)")
        let again = try cli.run("init", "--hub", "hub.example.org:7420", "--insecure", "--token", "abc")
        #expect(again.exitCode == 65)
        #expect(again.stderr.contains("a replica already exists"))
        let badHub = try CLI().run("init", "--hub", "nohost", "--insecure", "--token", "abc")
        #expect(badHub.exitCode == 64)
        #expect(badHub.stderr.contains("--hub must be HOST:PORT"))
    }

    @Test("init needs the hub's key or --insecure; a malformed key is refused; hub set replaces the key, and status shows it")
    func hubKeyOptions() throws {
        let missing = try CLI().run("init", "--hub", "hub.example.org:7420", "--token", "abc")
        #expect(missing.exitCode == 64)
        #expect(missing.stderr.contains("--hub-key SHA256:… is needed"))
        let malformed = try CLI().run("init", "--hub", "hub.example.org:7420", "--hub-key", "SHA256:abc", "--token", "abc")
        #expect(malformed.exitCode == 64)
        #expect(malformed.stderr.contains("is not a hub key: a hub key is SHA256: and 43 base64 characters"))
        let both = try CLI().run("init", "--hub", "hub.example.org:7420", "--hub-key", testHubKey, "--insecure", "--token", "abc")
        #expect(both.exitCode == 64 && both.stderr.contains("not both"))

        let cli = try CLI.initialized()
        #expect(try cli.run("status").stdout.contains("TLS, key \(testHubKey)"))
        let other = "SHA256:" + String(repeating: "A", count: 43)
        #expect(try cli.run("hub", "set", "hub.example.org:7420", "--hub-key", other).exitCode == 0)
        let (_, status) = try cli.json("status")
        #expect((status as? [String: Any])?["hubKey"] as? String == other)
        let downgrade = try cli.run("hub", "set", "hub.example.org:7420", "--insecure")
        #expect(downgrade.exitCode == 0)
        #expect(downgrade.stderr.contains("warning: TLS is off for this replica: it no longer checks the hub's key (\(other))"))
        #expect((try cli.json("status").value as? [String: Any])?["hubKey"] is NSNull)
        #expect(try cli.run("status").stdout.contains("plain TCP, --insecure"))
        // A hub move without a key keeps the trust as it was.
        #expect(try cli.run("hub", "set", "hub2.example.org:7420").exitCode == 0)
        #expect(try cli.run("status").stdout.contains("hub2.example.org:7420 (plain TCP, --insecure)"))
    }

    @Test("the replica is its owner's only; hub set and token set change where and how it syncs, keeping its data; status never shows the token")
    func reconfigureAndModes() throws {
        let cli = try CLI()
        let home = cli.home.path + "/laptop"
        #expect(try cli.runner.run(["init", "--home", home, "--hub", "hub.example.org:7420", "--hub-key", testHubKey, "--token", "s3cr3t-token", "--name", "A"]).exitCode == 0)
        let folderMode = try FileManager.default.attributesOfItem(atPath: home)[.posixPermissions] as? Int
        let fileMode = try FileManager.default.attributesOfItem(atPath: home + "/replica.sqlite")[.posixPermissions] as? Int
        #expect(folderMode == 0o700)
        #expect(fileMode == 0o600)
        #expect(try cli.runner.run(["put", "organizations", "iom", "name=IOM", "type=UNAgency", "--home", home]).exitCode == 0)
        let digest = try cli.runner.run(["digest", "--home", home]).stdout
        #expect(try cli.runner.run(["hub", "set", "hub2.example.org:7421", "--home", home]).exitCode == 0)
        #expect(try cli.runner.run(["token", "set", "n3w-token", "--home", home]).exitCode == 0)
        let status = try cli.runner.run(["status", "--home", home, "--json"])
        #expect(status.stdout.contains("hub2.example.org:7421"))
        #expect(!status.stdout.contains("n3w-token") && !status.stdout.contains("s3cr3t-token"))
        #expect(!(try cli.runner.run(["status", "--home", home]).stdout.contains("n3w-token")))
        #expect(try cli.runner.run(["digest", "--home", home]).stdout == digest)
        let bad = try cli.runner.run(["hub", "set", "nohost", "--home", home])
        #expect(bad.exitCode == 64 && bad.stderr.contains("must be HOST:PORT"))
        #expect(try cli.runner.run(["token", "set", " ", "--home", home]).exitCode == 64)
    }

    @Test("token create prints an init line that pastes as-is (names with quotes too); token list shows last use")
    func pastableInitLine() throws {
        let hub = CommandRunner(product: "mufakat-hub")
        let folder = try TemporaryDirectory("mufakat-paste")
        let data = folder.path("hub")
        let first = try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "Andi O'Neil", "--json"])
        #expect(((try first.json() as? [String: Any])?["init"]) is NSNull)
        #expect(try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "X", "--hub", "nohost"]).exitCode == 64)
        let made = try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "Andi O'Neil", "--hub", "hub.example.org:7420", "--json"])
        let line = try #require((try made.json() as? [String: Any])?["init"] as? String)
        // The line carries the key the hub will serve: the one 'status' shows.
        let key = try #require(((try hub.run(["status", "--data", data, "--json"]).json() as? [String: Any])?["tls"] as? [String: Any])?["key"] as? String)
        #expect(line.hasPrefix("mufakat init --hub hub.example.org:7420 --hub-key \(key) --token mft_"))
        // Later tokens remember the address.
        let later = try hub.run(["token", "create", "--data", data, "--org", "unicef", "--name", "Sari", "--json"])
        #expect(((try later.json() as? [String: Any])?["init"] as? String)?.contains("--hub hub.example.org:7420") == true)

        let home = folder.path("laptop")
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        let executable = CommandRunner.productsDirectory.appendingPathComponent("mufakat").path
        shell.arguments = ["-c", executable + line.dropFirst("mufakat".count) + " --home " + home]
        try shell.run()
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        let status = try CommandRunner(product: "mufakat").run(["status", "--home", home, "--json"])
        #expect(status.stdout.contains(#""name":"Andi O'Neil (IOM)""#))
        #expect(status.stdout.contains(#""hub":"hub.example.org:7420""#))
        #expect(status.stdout.contains(#""hubKey":"\#(key)""#))
        let list = try hub.run(["token", "list", "--data", data, "--json"])
        #expect((try list.json() as? [[String: Any]])?.allSatisfy { $0["lastUsed"] is NSNull } == true)

        // A name that already names its organisation is not given it twice; names the printed
        // line could not carry are refused when the token is made, not when it is pasted.
        let named = try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "Andi (IOM)", "--json"])
        #expect(((try named.json() as? [String: Any])?["init"] as? String)?.hasSuffix("--name='Andi (IOM)'") == true)
        #expect(try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "two\nlines"]).exitCode == 64)
        #expect(try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", String(repeating: "a", count: 195)]).exitCode == 64)
        // A backup needs a file name; health needs an address as laptops use it.
        #expect(try hub.run(["backup", "--data", data, "--to", ""]).exitCode == 64)
        #expect(try hub.run(["health", "--address", "nohost"]).exitCode == 64)
    }

    @Test("roles: token create takes one and an organization id, token role changes it, list shows it; audit and digest refuse bad input")
    func roles() throws {
        let hub = CommandRunner(product: "mufakat-hub")
        let folder = try TemporaryDirectory("mufakat-roles")
        let data = folder.path("hub")
        let made = try hub.run(["token", "create", "--data", data, "--org", "NGO-A", "--name", "Ana", "--role", "observer", "--json"])
        let object = try #require(try made.json() as? [String: Any])
        #expect(object["role"] as? String == "observer" && object["org"] as? String == "ngo-a")
        let id = try #require(object["id"] as? String)
        let wrongOrg = try hub.run(["token", "create", "--data", data, "--org", "Save the Children", "--name", "Budi"])
        #expect(wrongOrg.exitCode == 64)
        #expect(wrongOrg.stderr.contains("did you mean 'save-the-children'"))
        #expect(try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "X", "--role", "boss"]).exitCode == 64)
        let changed = try hub.run(["token", "role", "--data", data, id, "member"])
        #expect(changed.exitCode == 0 && changed.stdout.contains("observer → member"))
        #expect(try hub.run(["token", "role", "--data", data, "tok-nothing", "member"]).exitCode == 66)
        let list = try hub.run(["token", "list", "--data", data, "--json"])
        #expect((try list.json() as? [[String: Any]])?.map { $0["role"] as? String } == ["member"])
        #expect(try hub.run(["token", "list", "--data", data]).stdout.contains("ngo-a  member  Ana"))
        #expect(try hub.run(["audit", "--data", data, "--since", "2026-13-01"]).exitCode == 64)
        #expect(try hub.run(["audit", "--data", data, "--collection", "people"]).exitCode == 64)
        let verify = try hub.run(["audit", "verify", "--data", data])
        #expect(verify.exitCode == 0 && verify.stdout.contains("audit log holds: 1 entries"))
        #expect(try hub.run(["audit", "verify", "--data", data, "--expect", "nonsense"]).exitCode == 64)
        #expect(try hub.run(["audit", "--data", data, "--since", "2026-02-30"]).exitCode == 64)
        #expect(try hub.run(["serve", "--data", data, "--audit-retention-days", "200000000000"]).exitCode == 64)
        #expect(try hub.run(["digest", "--data", data, "--token-id", "tok-nothing"]).exitCode == 66)
        #expect(try hub.run(["digest", "--data", data, "--token-id", id]).stdout == hub.run(["digest", "--data", data]).stdout)
    }

    @Test("help shows each collection's write rule; history offline says so and shows the writes held here")
    func rightsHelpAndOfflineHistory() throws {
        let help = try CLI().run("help", "actions")
        #expect(help.stdout.contains("write: a coordinator writes every record; an observer none. A member creates actions"))
        #expect(try CLI().run("help", "reports").stdout.contains("status only moves forward: Draft → Submitted → Validated → Retracted"))
        let cli = try CLI()
        #expect(try cli.run("init", "--hub", "127.0.0.1:9", "--insecure", "--token", "t", "--name", "Ana (NGO-A)").exitCode == 0)
        #expect(try cli.run("put", "asks", "ask-1", "title=Raise the budget", "category=BudgetIncrease").exitCode == 0)
        let offline = try cli.run("history", "asks", "ask-1", "--timeout", "2")
        #expect(offline.exitCode == 0)
        #expect(offline.stderr.contains("offline: the hub's history could not be fetched"))
        #expect(offline.stdout.contains("Ana (NGO-A)  title = Raise the budget"))
        #expect(try cli.run("history", "asks", "ask-2", "--timeout", "2").exitCode == 66)
        #expect(try cli.run("history", "people", "p-1").exitCode == 66)
    }

    @Test("new and put say created or updated, and name the values they replaced")
    func honestWrites() throws {
        let cli = try CLI.initialized()
        let figure = ["new", "reports", "org=iom", "period=2025-Q3", "country=ID", "area=East Java", "indicator=VictimsIdentified"]
        let first = try cli.runner.run(figure + ["value=12", "--home", cli.home.path])
        #expect(first.exitCode == 0)
        #expect(first.stdout.hasPrefix("created reports r-"))
        let again = try cli.runner.run(figure + ["value=14", "--home", cli.home.path])
        #expect(again.stdout.hasPrefix("updated reports r-") && again.stdout.contains("(value was 12)"), "\(again.stdout)")
        let same = try cli.runner.run(figure + ["value=14", "--home", cli.home.path, "--json"])
        let object = try #require(try same.json() as? [String: Any])
        #expect(object["action"] as? String == "unchanged")
        #expect((object["replaced"] as? [String: Any])?.isEmpty == true)
        #expect(try cli.run("put", "positions", "gov:budget", "stance=Neutral").stdout == "created positions gov:budget\n")
        let put = try cli.run("put", "positions", "gov:budget", "stance=ActiveSupport", "influence=High")
        #expect(put.stdout == "updated positions gov:budget (stance was Neutral)\n")
        // A write to a deleted record brings it back, and says so.
        #expect(try cli.run("delete", "positions", "gov:budget").exitCode == 0)
        #expect(try cli.run("put", "positions", "gov:budget", "stance=Neutral").stdout == "restored positions gov:budget (stance was ActiveSupport)\n")
        // list shows whole ids, however long.
        let long = "act-" + String(repeating: "x", count: 150)
        #expect(try cli.run("put", "actions", long, "title=Follow up", "owner=iom").exitCode == 0)
        #expect(try cli.run("list", "actions").stdout.contains(long))
    }

    @Test("--version on both binaries, and the version in status --json")
    func versions() throws {
        let cli = try CLI.initialized()
        let mufakat = try cli.runner.run(["--version"])
        let hub = try CommandRunner(product: "mufakat-hub").run(["--version"])
        #expect(mufakat.exitCode == 0 && hub.exitCode == 0)
        let version = mufakat.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.split(separator: ".").count == 3 && version.allSatisfy { $0.isNumber || $0 == "." })
        #expect(hub.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == version)
        let status = try #require(try cli.json("status").value as? [String: Any])
        #expect(status["version"] as? String == version)
    }

    @Test("commands without a replica say how to create one")
    func noReplica() throws {
        let result = try CLI().run("status")
        #expect(result.exitCode == 66)
        #expect(result.stderr.contains("mufakat init --hub HOST:PORT --hub-key SHA256:… --token TOKEN"))
    }

    @Test("put, get, list, delete with --json and exit codes")
    func crud() throws {
        let cli = try CLI.initialized()
        #expect(try cli.run("put", "organizations", "iom", "name=IOM", "type=UNAgency").exitCode == 0)
        let put = try cli.json("put", "positions", "iom:ask-1", "stance=activesupport", "influence=high")
        #expect(put.code == 0)
        let outcome = try #require(put.value as? [String: Any])
        #expect(outcome["action"] as? String == "created")
        #expect((outcome["warnings"] as? [String]) == ["ask: 'ask-1' is not in asks on this replica (yet)"])

        let get = try cli.json("get", "positions", "iom:ask-1")
        let record = try #require(get.value as? [String: Any])
        let fields = try #require(record["fields"] as? [String: Any])
        #expect(fields["stance"] as? String == "ActiveSupport")
        #expect(record["conflicted"] as? Bool == false)
        let text = try cli.run("get", "positions", "iom:ask-1")
        #expect(text.stdout.contains("stance     ActiveSupport"))

        let list = try cli.json("list", "positions", "--where", "stance=ActiveSupport")
        #expect((list.value as? [[String: Any]])?.map { $0["id"] as? String } == ["iom:ask-1"])
        let empty = try cli.json("list", "positions", "--where", "stance=Neutral")
        #expect((empty.value as? [Any])?.isEmpty == true)

        #expect(try cli.run("delete", "positions", "iom:ask-1").exitCode == 0)
        #expect((try cli.json("list", "positions").value as? [Any])?.isEmpty == true)
        let missing = try cli.run("get", "positions", "nobody:ask-1")
        #expect(missing.exitCode == 66)
        #expect(missing.stderr.contains("no such record"))
    }

    @Test("bad input changes nothing and says what is accepted", arguments: [
        (["put", "positions", "x:ask-1", "stance=suport"], 65, "stance: 'suport' is not one of ActiveSupport, PassiveSupport"),
        (["put", "reprots", "x", "a=b"], 66, "unknown collection 'reprots'; the collections are organizations"),
        (["put", "positions", "x:ask-1", "colour=red"], 65, "colour: unknown field; the fields of positions are subject, ask, stance"),
        (["new", "reports", "org=iom", "period=2025", "country=ID", "indicator=Returnees", "value=12x"], 65, "value: '12x' is not a whole number"),
        (["new", "reports", "org=iom", "period=2025", "indicator=Returnees", "value=3"], 65, "country: is required"),
        (["put", "positions", "x:ask-1", "stance"], 64, "expected field=value, got 'stance'"),
        (["resolve", "positions", "x:ask-1", "stance"], 64, "give exactly one of --pick N or --value V"),
        (["frobnicate"], 64, "unknown command 'frobnicate'; the commands are init, put, new"),
        (["export", "positions", "--format", "xml"], 64, "xml"),
    ])
    func badInput(_ arguments: [String], _ exitCode: Int32, _ message: String) throws {
        let cli = try CLI.initialized()
        let before = try cli.run("digest").stdout
        let result = try cli.runner.run(arguments + ["--home", cli.home.path])
        #expect(result.exitCode == exitCode, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("Swift") && !result.stderr.contains("MufakatError"))
        #expect(try cli.run("digest").stdout == before)
    }

    @Test("errors in --json mode are JSON on stdout too")
    func jsonErrors() throws {
        let cli = try CLI.initialized()
        let result = try cli.json("put", "positions", "x:ask-1", "stance=suport")
        #expect(result.code == 65)
        let error = try #require((result.value as? [String: Any])?["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid")
        #expect(error["exitCode"] as? Int == 65)
        // Usage errors too: a missing argument, an unknown option, an unknown command.
        for arguments in [["put", "positions"], ["list", "positions", "--frobnicate"], ["frobnicate"]] {
            let usage = try cli.runner.run(arguments + ["--home", cli.home.path, "--json"])
            #expect(usage.exitCode == 64, "\(arguments)")
            let object = try #require((try usage.json() as? [String: Any])?["error"] as? [String: Any], "\(arguments): \(usage.stdout)")
            #expect(object["code"] as? String == "usage")
            #expect(object["exitCode"] as? Int == 64)
            #expect((object["message"] as? String)?.isEmpty == false)
        }
        // Without --json, stdout stays empty.
        #expect(try cli.run("put", "positions").stdout.isEmpty)
    }

    @Test("delete keeps the values, get shows them as deleted, restore brings the record back; key fields never change")
    func deleteRestoreAndKeys() throws {
        let cli = try CLI.initialized()
        #expect(try cli.run("put", "positions", "gov:budget", "stance=Neutral", "influence=Low").exitCode == 0)
        #expect(try cli.run("delete", "positions", "gov:budget").exitCode == 0)
        let deleted = try #require(try cli.json("get", "positions", "gov:budget").value as? [String: Any])
        #expect(deleted["deleted"] as? Bool == true)
        #expect((deleted["fields"] as? [String: Any])?["influence"] as? String == "Low")
        #expect(try cli.run("get", "positions", "gov:budget").stdout.contains("mufakat restore positions gov:budget"))
        #expect(try cli.run("list", "positions").stdout.contains("no positions"))
        let restore = try cli.json("restore", "positions", "gov:budget")
        #expect(restore.code == 0)
        #expect((restore.value as? [String: Any])?["action"] as? String == "restored")
        let back = try #require(try cli.json("get", "positions", "gov:budget").value as? [String: Any])
        #expect(back["deleted"] as? Bool == false)
        #expect((back["fields"] as? [String: Any])?["stance"] as? String == "Neutral")
        let again = try cli.run("restore", "positions", "gov:budget")
        #expect(again.exitCode == 0 && again.stdout.contains("unchanged"))
        #expect(try cli.run("restore", "positions", "gov:nothing").exitCode == 66)
        let before = try cli.run("digest").stdout
        let key = try cli.run("put", "positions", "gov:budget", "subject=iom")
        #expect(key.exitCode == 65)
        #expect(key.stderr.contains("subject: is part of the id of positions gov:budget and never changes"))
        #expect(try cli.run("digest").stdout == before)
    }

    @Test("conflicts, --check, and resolve")
    func conflicts() throws {
        let cli = try CLI.initialized()
        let none = try cli.run("conflicts", "--check")
        #expect(none.exitCode == 0)
        #expect(none.stdout.contains("no conflicts"))
        #expect((try cli.json("conflicts").value as? [Any])?.isEmpty == true)
        let resolve = try cli.run("resolve", "positions", "x:ask-1", "stance", "--pick", "1")
        #expect(resolve.exitCode == 66)
    }

    @Test("status, digest and collections")
    func statusDigestCollections() throws {
        let cli = try CLI.initialized()
        try cli.run("put", "organizations", "iom", "name=IOM", "type=UNAgency")
        let status = try #require(try cli.json("status").value as? [String: Any])
        #expect(status["pending"] as? Int == 1)
        #expect(status["name"] as? String == "Andi (IOM)")
        #expect((status["records"] as? [String: Any])?["organizations"] as? Int == 1)
        #expect(try cli.run("status").stdout.contains("not yet synced  1 record"))
        let digest = try #require(try cli.json("digest").value as? [String: Any])
        #expect((digest["digest"] as? String)?.count == 64)
        #expect(try cli.run("digest").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == digest["digest"] as? String)

        let collections = try #require(try cli.json("collections").value as? [[String: Any]])
        #expect(collections.map { $0["name"] as? String } == ["organizations", "reports", "asks", "positions", "meetings", "actions"])
        let help = try cli.run("help", "positions")
        #expect(help.exitCode == 0)
        #expect(help.stdout.contains("ActiveSupport, PassiveSupport, Neutral"))
        #expect(help.stdout.contains("id: <subject>:<ask>"))
        let positions = try #require(try cli.json("collections", "positions").value as? [String: Any])
        #expect((positions["fields"] as? [[String: Any]])?.first?["name"] as? String == "subject")
    }

    @Test("import, export round trip, re-import unchanged, one bad row among 1,000")
    func importExport() throws {
        let cli = try CLI.initialized()
        let files = try TemporaryDirectory()
        var data = SampleData(seed: 3)
        let good = files.path("reports.csv")
        try data.reportsCSV(rows: 1_000).write(toFile: good, atomically: true, encoding: .utf8)
        var badData = SampleData(seed: 3)
        let bad = files.path("bad.csv")
        try badData.reportsCSV(rows: 1_000) { index, cells in if index == 499 { cells[2] = "XX" } }
            .write(toFile: bad, atomically: true, encoding: .utf8)

        let refused = try cli.run("import", "reports", bad)
        #expect(refused.exitCode == 65)
        #expect(refused.stderr.contains("row 501: country: 'XX' is not an ISO 3166-1 country code"))
        #expect((try cli.json("list", "reports").value as? [Any])?.isEmpty == true)

        let dry = try cli.json("import", "reports", good, "--dry-run")
        #expect((dry.value as? [String: Any])?["created"] as? Int == 1_000)
        #expect((try cli.json("list", "reports").value as? [Any])?.isEmpty == true)

        let imported = try cli.json("import", "reports", good)
        #expect((imported.value as? [String: Any])?["created"] as? Int == 1_000)
        let digest = try cli.run("digest").stdout
        let again = try cli.json("import", "reports", good)
        #expect((again.value as? [String: Any])?["unchanged"] as? Int == 1_000)
        #expect(try cli.run("digest").stdout == digest)

        let exported = try cli.run("export", "reports")
        #expect(exported.exitCode == 0)
        let exportFile = files.path("export.csv")
        try exported.stdout.write(toFile: exportFile, atomically: true, encoding: .utf8)
        let fresh = try CLI.initialized(name: "Sari")
        #expect(try fresh.run("import", "reports", exportFile).exitCode == 0)
        #expect(try fresh.run("export", "reports").stdout == exported.stdout)
        let json = try fresh.run("export", "reports", "--format", "json")
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any])?.count == 1_000)

        let missing = try cli.run("import", "reports", files.path("nope.csv"))
        #expect(missing.exitCode == 66)

        // A byte order mark for spreadsheets unless --no-bom; -o writes a file; --where filters.
        let withMark = files.path("bom.csv"), withoutMark = files.path("nobom.csv")
        #expect(try cli.run("export", "reports", "-o", withMark).exitCode == 0)
        #expect(try cli.run("export", "reports", "-o", withoutMark, "--no-bom").exitCode == 0)
        let marked = try Data(contentsOf: URL(fileURLWithPath: withMark)), unmarked = try Data(contentsOf: URL(fileURLWithPath: withoutMark))
        let plainExport = String(decoding: unmarked, as: UTF8.self)
        #expect(Array(marked.prefix(3)) == [0xEF, 0xBB, 0xBF])
        #expect(marked.dropFirst(3) == unmarked && unmarked.starts(with: Array("id,".utf8)))
        let indicator = String(try #require(exported.stdout.split(separator: "\n").dropFirst().first?.split(separator: ",", omittingEmptySubsequences: false)[5]))
        let outFile = files.path("out.csv")
        let written = try cli.run("export", "reports", "-o", outFile, "--where", "indicator=\(indicator)")
        #expect(written.exitCode == 0 && written.stdout.isEmpty)
        let rows = try String(contentsOfFile: outFile, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(!rows.isEmpty && rows.count < 1_000)
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false)[5] == indicator })
        #expect(try cli.run("export", "reports", "--where", "country=nowhere").exitCode == 65)
        #expect(try cli.run("export", "reports", "-o", files.path("no/such/folder/x.csv")).exitCode == 66)
        #expect(try cli.run("export", "reports", "-o", files.path("")).exitCode == 65)
        // '-' is standard output; a file keeps its permissions when replaced.
        #expect(try cli.run("export", "reports", "-o", "-", "--no-bom").stdout == plainExport)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: outFile)
        #expect(try cli.run("export", "reports", "-o", outFile).exitCode == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: outFile)[.posixPermissions] as? Int == 0o600)
    }

    @Test("import reads semicolon-separated files as spreadsheets in many locales save them")
    func semicolonImport() throws {
        let cli = try CLI.initialized()
        let files = try TemporaryDirectory()
        let path = files.path("orgs.csv")
        try "\u{FEFF}id;name;type\r\niom;IOM;UNAgency\r\nstc;\"Save the Children; Indonesia\";INGO\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try cli.json("import", "organizations", path)
        #expect(result.code == 0)
        #expect((result.value as? [String: Any])?["created"] as? Int == 2)
        let stc = try #require(try cli.json("get", "organizations", "stc").value as? [String: Any])
        #expect((stc["fields"] as? [String: Any])?["name"] as? String == "Save the Children; Indonesia")
    }

    @Test("mufakat-hub: status, digest and token list refuse a folder without a hub and create nothing; serve on a busy port exits 69")
    func hubFolderAndPort() throws {
        let hub = CommandRunner(product: "mufakat-hub")
        let folder = try TemporaryDirectory("mufakat-nohub")
        let data = folder.path("missing")
        for arguments in [["status"], ["digest"], ["token", "list"]] {
            let result = try hub.run(arguments + ["--data", data])
            #expect(result.exitCode == 66, "\(arguments)")
            #expect(result.stderr.contains("there is no hub in"), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: data), "\(arguments) created \(data)")
        }
        let json = try hub.run(["status", "--data", data, "--json"])
        #expect(((try json.json() as? [String: Any])?["error"] as? [String: Any])?["exitCode"] as? Int == 66)
        #expect(try hub.run(["token", "create", "--data", data, "--org", "iom", "--name", "A"]).exitCode == 0)
        #expect(try hub.run(["status", "--data", data]).exitCode == 0)

        // Hold a port, then ask the hub to listen on it.
        let socket = try BusyPort()
        let busy = try hub.run(["serve", "--data", data, "--host", "127.0.0.1", "--port", String(socket.port)])
        #expect(busy.exitCode == 69)
        #expect(busy.stderr.contains("port \(socket.port) on 127.0.0.1 is in use"), "\(busy.stderr)")
        #expect(busy.stderr.split(separator: "\n").filter { $0.hasPrefix("mufakat-hub:") }.count == 1)

        // One hub per data folder: a second serve names the first one's process.
        let first = try hub.start(["serve", "--data", data, "--host", "127.0.0.1", "--port", "0"])
        defer { first.process.terminate(); first.process.waitUntilExit() }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: data + "/hub.port") { Thread.sleep(forTimeInterval: 0.05) }
        let second = try hub.run(["serve", "--data", data, "--host", "127.0.0.1", "--port", "0"])
        #expect(second.exitCode == 69)
        #expect(second.stderr.contains("another mufakat-hub (process \(first.process.processIdentifier)) is serving"), "\(second.stderr)")

        // health asks the running hub (a ping, no token) and fails once it is gone.
        let healthy = try hub.run(["health", "--data", data, "--json"])
        #expect(healthy.exitCode == 0)
        #expect((try healthy.json() as? [String: Any])?["healthy"] as? Bool == true)
        first.process.terminate()
        first.process.waitUntilExit()
        let gone = try hub.run(["health", "--data", data])
        #expect(gone.exitCode == 69)
        #expect(gone.stderr.contains("cannot reach the hub"))
    }
}

/// A TCP port held open by this process, for testing what a server does when it is taken.
final class BusyPort {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
