import ArgumentParser
import MufakatCore

struct MufakatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mufakat",
        abstract: "Offline-first coalition data: edit on your laptop, sync with the hub when you can.",
        discussion: """
            Every command works offline on the local replica (--home, default ~/.mufakat).
            'mufakat help COLLECTION' lists a collection's fields and the values they accept.

            Exit codes: 0 ok, 3 conflicts present (with --check), 64 usage error,
            65 invalid input (nothing was written), 66 not found, 69 hub unreachable,
            70 internal error, 76 protocol error, 77 token refused.
            """,
        version: MufakatVersion.current,
        subcommands: [
            InitCommand.self, PutCommand.self, NewCommand.self, GetCommand.self, ListCommand.self,
            DeleteCommand.self, RestoreCommand.self, ConflictsCommand.self, ResolveCommand.self, StatusCommand.self,
            DigestCommand.self, ImportCommand.self, ExportCommand.self, CollectionsCommand.self, SyncCommand.self,
            HistoryCommand.self, BriefCommand.self, DiscardCommand.self, HubGroupCommand.self, TokenGroupCommand.self,
        ])
}
