@main
enum Entry {
    static func main() async {
        await HubCommand.main(nil)
    }
}
