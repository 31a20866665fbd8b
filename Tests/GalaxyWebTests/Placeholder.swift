import Testing
@testable import GalaxyWeb
@Test func placeholder() { #expect(!PageFiles.index.isEmpty) }
