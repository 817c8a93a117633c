/// The web page at `/`: plain HTML, CSS and JavaScript in Swift strings, so the binary serves it with no
/// build step, no files to install and no external assets. The three parts live in their own files.
enum WebPage {}
