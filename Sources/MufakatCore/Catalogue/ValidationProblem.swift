/// One thing wrong with what a person entered, phrased for them.
///
/// ```
/// value: '12x' is not a whole number
/// stance: 'suport' is not one of ActiveSupport, PassiveSupport, Neutral, …
/// ```
public struct ValidationProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// The field concerned, `nil` for the record as a whole.
    public var field: String?
    public var message: String
    /// The rule broken, in words that quote no value (for a hub's log and refusals);
    /// the message itself when it quotes none.
    public var rule: String

    public init(field: String?, _ message: String, rule: String? = nil) {
        self.field = field
        self.message = message
        self.rule = rule.map { rule in field.map { "\($0): \(rule)" } ?? rule } ?? (field.map { "\($0): \(message)" } ?? message)
    }

    /// `field: message`, or the message alone.
    public var description: String {
        field.map { "\($0): \(message)" } ?? message
    }
}

extension MufakatError {
    /// One error carrying every problem, one per line, so nobody fixes them one at a time.
    public init(problems: [ValidationProblem], context: String) {
        let lines = problems.map { "  - \($0)" }.joined(separator: "\n")
        self.init(.invalid, "\(context):\n\(lines)")
    }
}
