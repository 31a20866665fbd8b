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
