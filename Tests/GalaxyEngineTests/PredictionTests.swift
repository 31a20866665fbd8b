import Testing

@testable import GalaxyEngine

/// Which class and label a prediction names.
@Suite struct PredictionTests {
    @Test func theClassIsTheOneWithTheLargestSummedProbability() {
        // Er alone is the top label, but the three spiral labels together outweigh it.
        let prediction = Prediction(
            labels: ["Er", "Sa", "Sb", "Sc", "A"], probabilities: [0.30, 0.20, 0.25, 0.15, 0.10])
        #expect(prediction.galaxyClass == "Spiral")
        #expect(prediction.label == "Sb")
    }

    @Test func theMorphologyIsChosenFirstThenTheBar() {
        // Elliptical has the largest class sum (0.40), but the disk classes together have 0.60:
        // a disk, and of the two disk classes Spiral (0.35) beats BarredSpiral (0.25).
        let prediction = Prediction(labels: ["Er", "Sa", "SBa", "A"], probabilities: [0.40, 0.35, 0.20, 0.05])
        #expect(prediction.galaxyClass == "Spiral")
        #expect(prediction.label == "Sa")
        let barred = Prediction(labels: ["Er", "Sa", "SBa", "SBb"], probabilities: [0.40, 0.25, 0.20, 0.15])
        #expect(barred.galaxyClass == "BarredSpiral")
        #expect(barred.label == "SBa")
    }

    @Test func classesOutsideTheStandardFourAreComparedDirectly() {
        let prediction = Prediction(
            labels: ["round", "bar", "ring"], classes: ["Smooth", "Barred", "Barred"], probabilities: [0.45, 0.30, 0.25])
        #expect(prediction.galaxyClass == "Barred")
        #expect(prediction.label == "bar")
    }

    @Test func aClearTopLabelKeepsItsOwnClass() {
        let prediction = Prediction(
            labels: ["Er", "Ei", "Sa", "SBa"], probabilities: [0.10, 0.55, 0.20, 0.15])
        #expect(prediction.galaxyClass == "Elliptical")
        #expect(prediction.label == "Ei")
        #expect(prediction.probabilities["SBa"] == 0.15)
    }

    @Test func aModelsOwnClassesAreSummedTheSameWay() {
        let prediction = Prediction(
            labels: ["elliptical", "spiral", "edge_on", "merger"],
            classes: ["Elliptical", "Spiral", "Spiral", "Ambiguous"], probabilities: [0.4, 0.35, 0.2, 0.05])
        #expect(prediction.galaxyClass == "Spiral")
        #expect(prediction.label == "spiral")
    }

    @Test func tiesGoToTheClassMetFirst() {
        let prediction = Prediction(labels: ["Sa", "Er"], probabilities: [0.5, 0.5])
        #expect(prediction.galaxyClass == "Spiral")
        #expect(prediction.label == "Sa")
    }
}
