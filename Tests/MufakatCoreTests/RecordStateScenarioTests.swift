import Testing
@testable import MufakatCore

@Suite("Record state scenarios")
struct RecordStateScenarioTests {
    @Test("concurrent edits to different fields merge with no conflict")
    func disjointFieldsMerge() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral"), "influence": .string("Low")])
        var unicef = SimulatedReplica("unicef")
        try unicef.receive(from: iom)

        try iom.put("iom:a1", ["stance": .string("ActiveSupport")])
        try unicef.put("iom:a1", ["influence": .string("High")])
        var replicas = [iom, unicef]
        try sync(&replicas, 0, 1)

        let state = replicas[0].states["iom:a1"]!
        #expect(!state.isConflicted)
        #expect(state.conflicts.isEmpty)
        #expect(state.document == ["stance": .string("ActiveSupport"), "influence": .string("High")])
        #expect(replicas[0].digest == replicas[1].digest)
    }

    @Test("concurrent edits to the same field keep both values as a conflict")
    func sameFieldConflict() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral")])
        var unicef = SimulatedReplica("unicef")
        try unicef.receive(from: iom)

        try iom.put("iom:a1", ["stance": .string("ActiveSupport")])
        try unicef.put("iom:a1", ["stance": .string("PassiveOpposition")])
        var replicas = [iom, unicef]
        try sync(&replicas, 0, 1)

        for replica in replicas {
            let state = replica.states["iom:a1"]!
            #expect(state.isConflicted)
            let conflict = try #require(state.conflicts.first)
            #expect(conflict.field == "stance")
            #expect(Set(conflict.candidates.map(\.value)) == [.string("ActiveSupport"), .string("PassiveOpposition")])
            #expect(Set(conflict.candidates.map(\.author)) == ["Iom", "Unicef"])
            #expect(Set(conflict.candidates.map(\.replica)) == [iom.id, unicef.id])
            // The display shows the candidate listed first: the greatest (time, replica).
            #expect(state.document["stance"] == conflict.candidates[0].value)
        }
        #expect(replicas[0].digest == replicas[1].digest)
    }

    @Test("an edit racing a delete is a conflict and the edit is not lost")
    func editVersusDelete() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral"), "statement": .string("We will see.")])
        var unicef = SimulatedReplica("unicef")
        try unicef.receive(from: iom)

        try iom.delete("iom:a1")
        try unicef.put("iom:a1", ["stance": .string("ActiveSupport")])
        var replicas = [iom, unicef]
        try sync(&replicas, 0, 1)

        let state = replicas[0].states["iom:a1"]!
        #expect(state.isDeleted)
        #expect(state.isConflicted)
        let conflict = try #require(state.conflicts.first { $0.field == "stance" })
        #expect(conflict.candidates.contains { $0.value == .string("ActiveSupport") && !$0.isDeletion })
        // The deletion candidate holds what the field held when it was deleted.
        #expect(conflict.candidates.contains { $0.value == .string("Neutral") && $0.isDeletion })
        // The statement nobody edited concurrently is no conflict, and is kept.
        #expect(!state.conflicts.contains { $0.field == "statement" })
        #expect(state.document["statement"] == .string("We will see."))
        #expect(replicas[0].digest == replicas[1].digest)
    }

    @Test("an edit to a field the deleter never had still shows as a conflict")
    func editOfNewFieldVersusDelete() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral")])
        var unicef = SimulatedReplica("unicef")
        try unicef.receive(from: iom)
        try iom.delete("iom:a1")
        try unicef.put("iom:a1", ["source": .string("Meeting 3 March")])
        try iom.receive(from: unicef)

        let state = iom.states["iom:a1"]!
        #expect(state.isDeleted)
        #expect(state.isConflicted)
        let conflict = try #require(state.conflicts.first)
        #expect(conflict.field == "source")
        #expect(conflict.candidates.map(\.isDeletion).sorted { !$0 && $1 } == [false, true])
    }

    @Test("resolving on one replica clears the conflict everywhere after merging")
    func resolveClearsEverywhere() throws {
        var replicas = [SimulatedReplica("iom"), SimulatedReplica("unicef"), SimulatedReplica("stc")]
        try replicas[0].put("iom:a1", ["stance": .string("Neutral")])
        try sync(&replicas, 0, 1)
        try sync(&replicas, 0, 2)
        try replicas[0].put("iom:a1", ["stance": .string("ActiveSupport")])
        try replicas[1].put("iom:a1", ["stance": .string("PassiveSupport")])
        try sync(&replicas, 0, 1)
        try sync(&replicas, 1, 2)
        #expect(replicas.allSatisfy { $0.states["iom:a1"]!.isConflicted })

        try replicas[2].resolve("iom:a1", field: "stance", to: .string("PassiveSupport"))
        #expect(!replicas[2].states["iom:a1"]!.isConflicted)
        try sync(&replicas, 2, 0)
        try sync(&replicas, 0, 1)
        for replica in replicas {
            let state = replica.states["iom:a1"]!
            #expect(!state.isConflicted)
            #expect(state.document["stance"] == .string("PassiveSupport"))
        }
        #expect(Set(replicas.map(\.digest)).count == 1)
    }

    @Test("resolving an edit-vs-delete conflict by keeping the edit revives the record")
    func resolveDeleteConflictByKeepingEdit() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral")])
        var unicef = SimulatedReplica("unicef")
        try unicef.receive(from: iom)
        try iom.delete("iom:a1")
        try unicef.put("iom:a1", ["stance": .string("ActiveSupport")])
        try iom.receive(from: unicef)

        try iom.resolve("iom:a1", field: "stance", to: .string("ActiveSupport"))
        let state = iom.states["iom:a1"]!
        #expect(!state.isDeleted)
        #expect(!state.isConflicted)
        #expect(state.document == ["stance": .string("ActiveSupport")])
    }

    @Test("keeping an edit that raced a delete brings the record back whole: its other fields and its key fields")
    func keptEditRevivesWholeRecord() throws {
        var a = SimulatedReplica("a")
        let whole: [String: FieldValue] = [
            "subject": .string("gov"), "ask": .string("budget"), "stance": .string("Neutral"), "influence": .string("Low"),
            "statement": .string("old evidence"),
        ]
        try a.put("gov:budget", whole)
        var b = SimulatedReplica("b")
        try b.receive(from: a)
        try a.delete("gov:budget")
        try b.put("gov:budget", ["statement": .string("new evidence")])
        var replicas = [a, b]
        try sync(&replicas, 0, 1)
        let conflict = try #require(replicas[1].states["gov:budget"]!.conflicts.first { $0.field == "statement" })
        let edit = try #require(conflict.candidates.first { !$0.isDeletion })
        try replicas[1].resolve("gov:budget", field: "statement", to: edit.value)
        try sync(&replicas, 0, 1)
        for replica in replicas {
            let state = replica.states["gov:budget"]!
            #expect(!state.isDeleted)
            #expect(!state.isConflicted)
            var expected = whole
            expected["statement"] = .string("new evidence")
            #expect(state.document == expected)
        }
        #expect(replicas[0].digest == replicas[1].digest)
    }

    @Test("choosing the deletion while someone else keeps the edit is a conflict between deleted and kept, on every replica")
    func concurrentDeletionChoiceAndKeptEdit() throws {
        var replicas = [SimulatedReplica("a"), SimulatedReplica("b"), SimulatedReplica("c")]
        try replicas[0].put("gov:budget", ["stance": .string("Neutral"), "statement": .string("old")])
        try sync(&replicas, 0, 1)
        try sync(&replicas, 0, 2)
        try replicas[0].delete("gov:budget")
        try replicas[1].put("gov:budget", ["statement": .string("new")])
        try sync(&replicas, 0, 1)
        // A chooses the deletion, B keeps the edit, each without seeing the other.
        let atA = try #require(replicas[0].states["gov:budget"]!.conflicts.first { $0.field == "statement" })
        let deletion = try #require(atA.candidates.first { $0.isDeletion })
        try replicas[0].resolve("gov:budget", field: "statement", to: deletion.value, deleting: true)
        #expect(replicas[0].states["gov:budget"]!.isDeleted)
        #expect(!replicas[0].states["gov:budget"]!.isConflicted)
        try replicas[1].resolve("gov:budget", field: "statement", to: .string("new"))
        #expect(!replicas[1].states["gov:budget"]!.isDeleted)
        try sync(&replicas, 0, 1)
        try sync(&replicas, 1, 2)
        for replica in replicas {
            let state = replica.states["gov:budget"]!
            #expect(state.isConflicted)
            let choice = try #require(state.conflicts.first { $0.field == RecordState.deletedField })
            #expect(Set(choice.candidates.map(\.value)) == [.bool(true), .bool(false)])
            #expect(Set(choice.candidates.map(\.author)) == ["A", "B"])
        }
        #expect(Set(replicas.map(\.digest)).count == 1)
        // C settles it: kept. Everyone then shows the record with the edit, no conflict left
        // once the statement is chosen too.
        try replicas[2].resolve("gov:budget", field: RecordState.deletedField, to: .bool(false))
        if let statement = replicas[2].states["gov:budget"]!.conflicts.first(where: { $0.field == "statement" }) {
            #expect(statement.candidates.contains { $0.value == .string("new") })
            try replicas[2].resolve("gov:budget", field: "statement", to: .string("new"))
        }
        try sync(&replicas, 2, 0)
        try sync(&replicas, 0, 1)
        for replica in replicas {
            let state = replica.states["gov:budget"]!
            #expect(!state.isDeleted && !state.isConflicted)
            #expect(state.document == ["stance": .string("Neutral"), "statement": .string("new")])
        }
    }

    @Test("a delete racing a delete-then-restore is a conflict in _deleted only, not in every field")
    func deleteRacingRestore() throws {
        var replicas = [SimulatedReplica("a"), SimulatedReplica("b")]
        try replicas[0].put("gov:budget", ["stance": .string("Neutral"), "influence": .string("Low")])
        try sync(&replicas, 0, 1)
        try replicas[0].delete("gov:budget")
        try replicas[0].restore("gov:budget")
        try replicas[1].delete("gov:budget")
        try sync(&replicas, 0, 1)
        for replica in replicas {
            let state = replica.states["gov:budget"]!
            #expect(state.conflicts.map(\.field) == [RecordState.deletedField])
            #expect(state.isConflicted)
        }
    }

    @Test("two deletes that kept different values: nothing to decide while deleted, and status agrees; a restore shows the conflict")
    func twoDeletesDifferentValues() throws {
        var replicas = [SimulatedReplica("a"), SimulatedReplica("b")]
        try replicas[0].put("gov:budget", ["stance": .string("Neutral")])
        try sync(&replicas, 0, 1)
        try replicas[0].put("gov:budget", ["stance": .string("ActiveSupport")])
        try replicas[0].delete("gov:budget")
        try replicas[1].delete("gov:budget")
        try sync(&replicas, 0, 1)
        let state = replicas[0].states["gov:budget"]!
        #expect(state.isDeleted)
        #expect(state.conflicts.isEmpty && !state.isConflicted)
        try replicas[0].restore("gov:budget")
        let restored = replicas[0].states["gov:budget"]!
        #expect(restored.conflicts.map(\.field) == ["stance"])
        #expect(Set(restored.conflicts[0].candidates.map(\.value)) == [.string("Neutral"), .string("ActiveSupport")])
    }

    @Test("a deleted record keeps its values; restoring it brings them back; a put revives it with them")
    func restoreAfterDelete() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral"), "influence": .string("Low")])
        try iom.delete("iom:a1")
        #expect(iom.states["iom:a1"]!.isDeleted)
        #expect(!iom.states["iom:a1"]!.isConflicted)
        var restored = iom
        try restored.restore("iom:a1")
        #expect(!restored.states["iom:a1"]!.isDeleted)
        #expect(restored.states["iom:a1"]!.document == ["stance": .string("Neutral"), "influence": .string("Low")])
        try iom.put("iom:a1", ["stance": .string("ActiveSupport")])
        let state = iom.states["iom:a1"]!
        #expect(!state.isDeleted)
        #expect(!state.isConflicted)
        #expect(state.document == ["stance": .string("ActiveSupport"), "influence": .string("Low")])
    }

    @Test("a clock set back by a year still writes a value that displays as newest")
    func timeRuleWithClockSetBack() throws {
        var good = SimulatedReplica("good", clock: 1_764_400_000_000)
        try good.put("iom:a1", ["stance": .string("Neutral")])
        let yearMs: Int64 = 365 * 24 * 3_600_000
        var late = SimulatedReplica("late", clock: 1_764_400_000_000 - yearMs)
        try late.receive(from: good)
        try late.put("iom:a1", ["stance": .string("ActiveSupport")])

        let state = late.states["iom:a1"]!
        let entry = try #require(state.fields["stance"]?.first)
        let previous = try #require(good.states["iom:a1"]?.fields["stance"]?.first)
        #expect(entry.time == previous.time + 1)
        #expect(state.document["stance"] == .string("ActiveSupport"))
    }

    @Test("two entries with the same dot and different values are refused, not picked")
    func corruption() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral")])
        var forged = iom
        forged.counter = 0
        forged.states = [:]
        try forged.put("iom:a1", ["stance": .string("ActiveOpposition")])

        let original = iom.states["iom:a1"]!
        #expect(throws: MufakatError.self) { try original.merging(forged.states["iom:a1"]!) }
        do {
            _ = try original.merging(forged.states["iom:a1"]!)
        } catch {
            #expect(error.code == .corruption)
            #expect(error.message.contains("Neutral") && error.message.contains("ActiveOpposition"))
        }
    }

    @Test("a write with a dot the record has seen is refused")
    func staleDot() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral")])
        var state = iom.states["iom:a1"]!
        #expect(throws: MufakatError.self) {
            try state.write(["stance": .string("Neutral")], dot: Dot(replica: iom.id, counter: 1), now: 0, author: "x")
        }
    }

    @Test("an unchanged write is detected so it can be skipped")
    func unchangedWrite() throws {
        var iom = SimulatedReplica("iom")
        try iom.put("iom:a1", ["stance": .string("Neutral")])
        let state = iom.states["iom:a1"]!
        #expect(state.wouldBeUnchanged(by: ["stance": .string("Neutral")]))
        #expect(state.wouldBeUnchanged(by: ["influence": .null]))
        #expect(!state.wouldBeUnchanged(by: ["stance": .string("ActiveSupport")]))
        #expect(!state.wouldBeUnchanged(by: ["influence": .string("Low")]))
    }
}

@Suite("Agreeing concurrent writes")
struct AgreeingWritesTests {
    @Test("two people typing the same value concurrently is not a conflict")
    func sameValueIsNoConflict() throws {
        var iom = SimulatedReplica("iom")
        var unicef = SimulatedReplica("unicef")
        try iom.put("r-1", ["value": .integer(42), "area": .string("East Java")])
        try unicef.put("r-1", ["value": .integer(42), "area": .string("east java")])
        try iom.receive(from: unicef)
        let state = iom.states["r-1"]!
        #expect(state.fields["value"]?.count == 2)
        #expect(state.conflicts.map(\.field) == ["area"])
        #expect(state.isConflicted)
        #expect(state.wouldBeUnchanged(by: ["value": .integer(42)]))
        try iom.resolve("r-1", field: "area", to: .string("East Java"))
        #expect(!iom.states["r-1"]!.isConflicted)
    }
}
