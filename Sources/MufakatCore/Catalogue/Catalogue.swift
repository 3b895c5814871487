/// The built-in collections: the one place that says what Mufakat stores.
///
/// The CLI's `collections` and `help`, its validation of `put`, `new` and `import`, and the
/// hub's validation of pushed records all read this list, so they cannot disagree.
/// Vocabulary follows the Human Trafficking Case Data Standard (HTCDS) and IOM's CTDC
/// where they have one. Aggregated counts only: no field holds personal data.
public enum Catalogue {
    public static let organizationTypes = [
        "UNAgency", "IntergovernmentalOrganisation", "INGO", "NGO", "DonorGovernmentOrEmbassy",
        "CentralGovernment", "LocalGovernment", "LawEnforcement", "TradeUnion", "Other",
    ]
    /// The organisation types that are government bodies: a member may write the positions
    /// of these (it assesses them), not only its own.
    public static let governmentTypes = ["CentralGovernment", "LocalGovernment", "LawEnforcement"]
    public static let indicators = [
        "VictimsIdentified", "VictimsAssisted", "VictimsReferred", "Returnees", "HotlineContacts",
        "CasesInvestigated", "CasesProsecuted", "Convictions", "PeopleTrained", "AwarenessSessions", "Other",
    ]
    public static let genders = ["Female", "Male", "TransgenderNonConforming", "Unknown"]
    /// CTDC's broad age bands.
    public static let ageBands = [
        "0--8", "9--17", "18--20", "21--23", "24--26", "27--29", "30--38", "39--47", "48+", "Unknown",
    ]
    public static let exploitationTypes = [
        "ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage", "Servitude",
        "ForcedMilitaryByNonStateActors", "OrganRemoval", "ForcedBegging", "ForcedAdoption", "Surrogacy", "Other",
    ]
    public static let dataSources = ["CaseManagement", "Hotline", "Outreach", "Survey", "Other"]
    public static let reportStatuses = ["Draft", "Submitted", "Validated", "Retracted"]
    public static let askCategories = [
        "BudgetIncrease", "InteragencyCoordination", "NPAImplementation", "BilateralAgreementMigrantWorkers",
        "LegislativeReform", "DataReporting", "Training", "Other",
    ]
    public static let askStatuses = ["Draft", "AgreedByCoalition", "Active", "PartiallyAchieved", "Achieved", "Dropped"]
    public static let stances = [
        "ActiveSupport", "PassiveSupport", "Neutral", "PassiveOpposition", "ActiveOpposition", "NoPosition", "Unknown",
    ]
    public static let influenceLevels = ["High", "Medium", "Low"]
    public static let signOnStates = ["Invited", "Signed", "Declined", "Withdrawn"]
    public static let actionStatuses = ["Open", "InProgress", "Done", "Blocked", "Dropped"]

    public static let organizations = CollectionSchema(
        name: "organizations",
        summary: "Coalition members and the government bodies they lobby.",
        idRule: .slug(from: "name"),
        fields: [
            FieldSpec("name", .string, required: true, "Full name, e.g. International Organization for Migration."),
            FieldSpec("type", .enumeration(organizationTypes), required: true, "What kind of body it is."),
            FieldSpec("country", .country, "Where it is based (ISO code)."),
            FieldSpec("website", .url, "Its web site."),
        ],
        writeRule: WriteRule(.own(fields: ["id"]), "A member writes its own organization's record (the id is its organization)."))

    public static let reports = CollectionSchema(
        name: "reports",
        summary: "Aggregated data-collection figures, one number per organization, period, place and indicator.",
        idRule: .naturalKey(
            prefix: "r-",
            fields: [
                "org", "period", "country", "area", "indicator", "gender", "ageBroad", "typeOfExploitation",
                "countryOfExploitation",
            ]),
        fields: [
            FieldSpec("org", .reference("organizations"), required: true, "The organization whose figure this is."),
            FieldSpec("period", .period, required: true, "The period counted: 2025, 2025-Q3 or 2025-07."),
            FieldSpec("country", .country, required: true, "The country counted in."),
            FieldSpec("area", .string, "Province or district; empty for the whole country."),
            FieldSpec("indicator", .enumeration(indicators), required: true, "What was counted."),
            FieldSpec("value", .integer, required: true, "The count."),
            FieldSpec("gender", .enumeration(genders), "Disaggregation by gender; empty for all."),
            FieldSpec("ageBroad", .enumeration(ageBands), "Disaggregation by CTDC age band; empty for all."),
            FieldSpec("typeOfExploitation", .enumeration(exploitationTypes), "Disaggregation by HTCDS type of exploitation."),
            FieldSpec("countryOfExploitation", .country, "Disaggregation by country of exploitation."),
            FieldSpec("datasource", .enumeration(dataSources), "Where the figure comes from."),
            FieldSpec("status", .enumeration(reportStatuses), "How far the figure has been checked."),
            FieldSpec("notes", .text, "Anything a reader of the figure should know."),
        ],
        writeRule: WriteRule(
            .own(fields: ["org"]),
            "A member writes the figures of its own organization (org); only a coordinator sets a figure's status to Validated.",
            coordinatorValues: ["status": ["Validated"]]),
        inHouse: InHouseRule(field: "status", values: ["Draft"], organization: "org"),
        forwardOnly: ForwardOnlyRule(field: "status", order: reportStatuses))

    public static let asks = CollectionSchema(
        name: "asks",
        summary: "Joint advocacy asks the coalition puts to governments.",
        idRule: .generated(prefix: "ask-"),
        fields: [
            FieldSpec("title", .string, required: true, "Short title of the ask."),
            FieldSpec("category", .enumeration(askCategories), required: true, "What kind of change is asked for."),
            FieldSpec("text", .text, "The ask in full."),
            FieldSpec("target", .reference("organizations"), "The body the ask is addressed to."),
            FieldSpec("lead", .reference("organizations"), "The member leading on it."),
            FieldSpec("status", .enumeration(askStatuses), "Where the ask stands."),
            FieldSpec("targetDate", .date, "When it should be achieved."),
        ],
        writeRule: WriteRule(.joint, "Joint: every member writes every ask."))

    public static let positions = CollectionSchema(
        name: "positions",
        summary: "Where a member or a government body stands on an ask; the id is <subject>:<ask>.",
        idRule: .composite(["subject", "ask"]),
        fields: [
            FieldSpec("subject", .reference("organizations"), required: true, "The organization whose position it is."),
            FieldSpec("ask", .reference("asks"), required: true, "The ask it is a position on."),
            FieldSpec("stance", .enumeration(stances), required: true, "Its stance."),
            FieldSpec("influence", .enumeration(influenceLevels), "How much its stance weighs."),
            FieldSpec("statement", .text, "What it said, in its words."),
            FieldSpec("source", .string, "Where the statement comes from (meeting, letter, web address)."),
            FieldSpec("signOn", .enumeration(signOnStates), "Whether it signed the joint statement."),
            FieldSpec("assessedBy", .reference("organizations"), "The member who made this assessment."),
            FieldSpec("assessedOn", .date, "When the assessment was made."),
        ],
        writeRule: WriteRule(
            .own(fields: ["subject"], governmentField: "subject"),
            "A member writes its own organization's positions (subject) and those of government bodies (a subject whose type is \(governmentTypes.joined(separator: ", "))); assessedBy names only the writing member's organization.",
            writerField: "assessedBy"))

    public static let meetings = CollectionSchema(
        name: "meetings",
        summary: "Coordination meetings and what they decided.",
        idRule: .generated(prefix: "mtg-"),
        fields: [
            FieldSpec("date", .date, required: true, "The day it was held."),
            FieldSpec("title", .string, required: true, "What it was."),
            FieldSpec("host", .reference("organizations"), "Who hosted it."),
            FieldSpec("attendees", .references("organizations"), "Organizations present."),
            FieldSpec("decisions", .text, "What was decided."),
            FieldSpec("minutes", .url, "Where the minutes are."),
        ],
        writeRule: WriteRule(.joint, "Joint: every member writes every meeting."))

    public static let actions = CollectionSchema(
        name: "actions",
        summary: "Follow-up actions from meetings.",
        idRule: .generated(prefix: "act-"),
        fields: [
            FieldSpec("title", .string, required: true, "What is to be done."),
            FieldSpec("owner", .reference("organizations"), "Who does it."),
            FieldSpec("due", .date, "By when."),
            FieldSpec("status", .enumeration(actionStatuses), "Where it stands."),
            FieldSpec("meeting", .reference("meetings"), "The meeting it came from."),
            FieldSpec("ask", .reference("asks"), "The ask it serves."),
            FieldSpec("createdBy", .reference("organizations"), "The organization that created it; mufakat fills it in."),
        ],
        writeRule: WriteRule(
            .own(fields: ["owner", "createdBy"]),
            "A member creates actions, and writes those its own organization owns (owner) or created (createdBy, which only names the creating member's organization and never changes).",
            creatorField: "createdBy"))

    /// Every collection, in the order help lists them.
    public static let collections: [CollectionSchema] = [organizations, reports, asks, positions, meetings, actions]

    public static var collectionNames: [String] { collections.map(\.name) }

    /// The collection called `name`.
    /// - Throws: ``MufakatError/Code/notFound`` naming the collections that exist.
    public static func collection(named name: String) throws(MufakatError) -> CollectionSchema {
        let wanted = name.lowercased()
        guard let schema = collections.first(where: { $0.name == wanted }) else {
            throw MufakatError(
                .notFound,
                "unknown collection '\(name)'; the collections are \(collectionNames.joined(separator: ", "))",
                value: name)
        }
        return schema
    }
}
