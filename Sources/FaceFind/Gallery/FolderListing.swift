import Foundation

/// The image files under a folder, and the folders that could not be listed.
///
/// Foundation's directory enumerator skips a folder it cannot open without a word; an indexer built on it
/// takes the photos in an unreadable folder for deleted ones. This walker reports each such folder with the
/// reason, so that indexing keeps what it cannot see and says so.
public struct FolderListing: Sendable {
    /// Image files (by extension; videos too when asked for), absolute standardised paths, sorted.
    public var files: [String] = []
    /// Folders that could not be listed, with the reason ("Permission denied").
    public var unreadable: [IndexReport.Failure] = []

    /// Walks `directory` (or takes the single file it names). Symbolic links to folders are not followed, so a
    /// link loop cannot make the walk endless; links to files are listed like files (reading them reports a
    /// dangling or looping link). Throws only when `directory` itself does not exist.
    /// The paths of `known` (indexed files) under `root`, or `root` itself, that this listing no longer has:
    /// `gone`, removed from the folder, and `unavailable`, in a folder that could not be listed, with its
    /// reason (what cannot be read is never taken for gone).
    public func missing(from known: [String: FileState], root: String) -> (gone: [String], unavailable: [String: String]) {
        let present = Set(files)
        let prefix = root.hasSuffix("/") ? root : root + "/"
        var gone: [String] = [], unavailable: [String: String] = [:]
        for path in known.keys where (path.hasPrefix(prefix) || path == root) && !present.contains(path) {
            if let folder = unreadable.first(where: { path.hasPrefix($0.path + "/") }) {
                unavailable[path] = folder.reason
            } else {
                gone.append(path)
            }
        }
        return (gone, unavailable)
    }

    /// `includeVideos`: list video files (`videoFileExtensions`) beside the photos, as indexing does.
    public init(directory: String, includeVideos: Bool = false) throws {
        let wanted: (String) -> Bool = { Self.isImageName($0) || (includeVideos && isVideoPath($0)) }
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        var info = stat()
        guard stat(root, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw GalleryError.notFound(root) }
            throw GalleryError.unreadable(path: root, reason: String(cString: strerror(errno)))
        }
        guard Int(info.st_mode) & Int(S_IFMT) == Int(S_IFDIR) else {
            if wanted(root) { files = [root] }
            return
        }
        var folders = [root]
        while let folder = folders.popLast() {
            guard let directory = opendir(folder) else {
                unreadable.append(.init(path: folder, reason: "cannot list folder: \(String(cString: strerror(errno)))"))
                continue
            }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                // Fields are read through their offsets: a directory entry is only as long as its name, so
                // copying the whole `dirent` (its 256-byte name array) reads past the end of the last entry
                // of libc's buffer (AddressSanitizer found it).
                let raw = UnsafeRawPointer(entry)
                let name = String(cString: raw.advanced(by: Self.nameOffset).assumingMemoryBound(to: CChar.self))
                if name == "." || name == ".." { continue }
                let path = folder == "/" ? "/" + name : folder + "/" + name
                var type = raw.load(fromByteOffset: Self.typeOffset, as: UInt8.self)
                if type == UInt8(DT_UNKNOWN) {  // some file systems do not fill d_type
                    var info = stat()
                    type = lstat(path, &info) == 0 && Int(info.st_mode) & Int(S_IFMT) == Int(S_IFDIR)
                        ? UInt8(DT_DIR) : UInt8(DT_REG)
                }
                if type == UInt8(DT_DIR) {
                    folders.append(path)
                } else if wanted(name) {
                    files.append(path)
                }
            }
        }
        files.sort()
        unreadable.sort { $0.path < $1.path }
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    private static let typeOffset = MemoryLayout<dirent>.offset(of: \dirent.d_type)!

    static func isImageName(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return imageFileExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    /// Whether `path` lies in one of the unreadable folders: its indexed state is unknown, not gone.
    public func isHidden(_ path: String) -> Bool {
        unreadable.contains { path.hasPrefix($0.path + "/") }
    }
}
