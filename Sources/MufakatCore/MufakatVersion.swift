/// The version of this Mufakat build, shown by `--version`, in `status --json`, and in the
/// client's `hello` (for the hub's log).
public enum MufakatVersion {
    public static let current = "0.8.0"
}
