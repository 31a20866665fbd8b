/// The morphology the renderer draws for each of the 13 Galaxy Zoo labels.
enum GalaxyKind: Sendable {
    /// Er, Ei, Ec: axis ratio range of the class.
    case elliptical(axisRatio: ClosedRange<Double>)
    /// Sa...Sd (stage 0...3) and SBa...SBd with a bar.
    case spiral(stage: Double, barred: Bool)
    /// Se: a disk seen edge-on.
    case edgeOn
    /// A: stars, mergers, artefacts, empty sky (one of them at random unless given).
    case ambiguous(AmbiguousScene?)

    init?(label: String) {
        switch label {
        case "Er": self = .elliptical(axisRatio: 0.8...1.0)
        case "Ei": self = .elliptical(axisRatio: 0.48...0.82)
        case "Ec": self = .elliptical(axisRatio: 0.2...0.5)
        case "Sa": self = .spiral(stage: 0, barred: false)
        case "Sb": self = .spiral(stage: 1, barred: false)
        case "Sc": self = .spiral(stage: 2, barred: false)
        case "Sd": self = .spiral(stage: 3, barred: false)
        case "SBa": self = .spiral(stage: 0, barred: true)
        case "SBb": self = .spiral(stage: 1, barred: true)
        case "SBc": self = .spiral(stage: 2, barred: true)
        case "SBd": self = .spiral(stage: 3, barred: true)
        case "Se": self = .edgeOn
        case "A": self = .ambiguous(nil)
        default: return nil
        }
    }
}

/// What an image of class A shows.
enum AmbiguousScene: Sendable, CaseIterable {
    case brightStar, merger, artefact, emptyField
}
