import Foundation
import Testing
@testable import FaceFindPostgres

/// URL parsing needs no server.
@Suite("Postgres URL")
struct PostgresURLTests {
    @Test func parsesTCPURLAndHidesThePassword() throws {
        let location = try PostgresLocation(url: "postgres://face:s3cr%40t@db.example:6543/gallery?schema=photos&hnsw=l2&m=24&ef_construction=100&ef_search=80&type=halfvec")
        #expect(location.host == "db.example" && location.port == 6543)
        #expect(location.user == "face" && location.password == "s3cr@t" && location.database == "gallery")
        #expect(location.options.schema == "photos" && location.options.hnsw == .l2)
        #expect(location.options.m == 24 && location.options.efConstruction == 100 && location.options.efSearch == 80)
        #expect(location.options.halfPrecision)
        #expect(!location.displayName.contains("s3cr"))
        #expect(location.displayName.contains("***"))
    }

    @Test func parsesSocketURL() throws {
        let location = try PostgresLocation(url: "postgres://face@/gallery?host=/var/run/pg&port=54329")
        #expect(location.socketDirectory == "/var/run/pg" && location.port == 54329 && location.database == "gallery")
        #expect(location.options.schema == "facefind" && location.options.hnsw == .cosine)
    }

    @Test func refusesBadParameters() {
        #expect(throws: (any Error).self) { try PostgresLocation(url: "mysql://x@y/z") }
        #expect(throws: (any Error).self) { try PostgresLocation(url: "postgres://x@y/z?schema=a;drop") }
        #expect(throws: (any Error).self) { try PostgresLocation(url: "postgres://x@y/z?hnsw=ivf") }
        #expect(throws: (any Error).self) { try PostgresLocation(url: "postgres://x@y/z?colour=blue") }
    }
}
