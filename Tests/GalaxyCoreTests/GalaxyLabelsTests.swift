import Foundation
import GalaxyCore
import Testing

@Suite struct GalaxyLabelsTests {
    @Test func standardLabelsCollapseIntoFourClasses() {
        let classes = GalaxyLabels.standard.map(GalaxyLabels.highLevelClass(of:))
        #expect(classes == [
            "Ambiguous", "Elliptical", "Elliptical", "Elliptical",
            "Spiral", "Spiral", "Spiral", "Spiral", "Spiral",
            "BarredSpiral", "BarredSpiral", "BarredSpiral", "BarredSpiral",
        ])
    }

    @Test func unknownLabelsMapToThemselves() {
        #expect(GalaxyLabels.highLevelClass(of: "Merger") == "Merger")
    }

    @Test func workerPoolVisitsEveryIndexOnce() {
        let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 1000)
        seen.initialize(repeating: 0)
        defer { seen.deallocate() }
        nonisolated(unsafe) let buffer = seen
        WorkerPool.forEach(1000, threads: 4) { _, i in buffer[i] += 1 }
        #expect(seen.allSatisfy { $0 == 1 })
    }

    @Test func durationsReadNaturally() {
        #expect(ProgressBar.formatDuration(12) == "12s")
        #expect(ProgressBar.formatDuration(185) == "3m05s")
        #expect(ProgressBar.formatDuration(3720) == "1h02m")
    }
}

@Suite struct ProgressBarTests {
    /// Logs (a pipe, not a terminal) get one final line, not the last update repeated.
    @Test func finalLineIsNotRepeatedInLogs() throws {
        let pipe = Pipe()
        let bar = ProgressBar(title: "ingest", total: 2, output: pipe.fileHandleForWriting)
        bar.advance()
        bar.advance()
        bar.finish()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.last?.contains("2/2") == true)
    }
}
