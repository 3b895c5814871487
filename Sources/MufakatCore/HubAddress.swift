/// A hub address as people type it: `HOST:PORT`, port 1–65535; an IPv6 host in brackets
/// (`[::1]:7420`).
public enum HubAddress {
    /// The host (brackets removed) and port, or `nil` when `text` is not `HOST:PORT`.
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].isEmpty,
            let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
