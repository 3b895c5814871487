/// How a stance is shown: in words, and in a colour from a purple–orange scale that
/// people with the common colour-vision deficiencies tell apart (ColorBrewer PuOr), so the
/// colour only repeats what the words say.
public struct StanceStyle: Sendable, Hashable {
    public var words: String
    public var background: String
    public var foreground: String
    /// A CSS class naming the stance, for tests and print styles.
    public var cssClass: String

    public static func of(_ stance: String) -> StanceStyle {
        switch stance {
        case "ActiveSupport": return StanceStyle(words: "Active support", background: "#542788", foreground: "#ffffff", cssClass: "stance-active-support")
        case "PassiveSupport": return StanceStyle(words: "Passive support", background: "#998ec3", foreground: "#000000", cssClass: "stance-passive-support")
        case "Neutral": return StanceStyle(words: "Neutral", background: "#f7f7f7", foreground: "#000000", cssClass: "stance-neutral")
        case "PassiveOpposition": return StanceStyle(words: "Passive opposition", background: "#f1a340", foreground: "#000000", cssClass: "stance-passive-opposition")
        case "ActiveOpposition": return StanceStyle(words: "Active opposition", background: "#b35806", foreground: "#ffffff", cssClass: "stance-active-opposition")
        case "NoPosition": return StanceStyle(words: "No position", background: "#ffffff", foreground: "#000000", cssClass: "stance-no-position")
        case "Unknown", "": return StanceStyle(words: "Unknown", background: "#d9d9d9", foreground: "#000000", cssClass: "stance-unknown")
        default: return StanceStyle(words: stance, background: "#d9d9d9", foreground: "#000000", cssClass: "stance-other")
        }
    }

    /// The scale in order, for a legend.
    public static let scale = ["ActiveSupport", "PassiveSupport", "Neutral", "PassiveOpposition", "ActiveOpposition", "NoPosition", "Unknown"]
}
