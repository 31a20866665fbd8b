/// The Galaxy Zoo label vocabulary and the collapse of low-level labels into high-level classes.
public enum GalaxyLabels {
    /// The 13 low-level labels, in the order the default models emit them.
    public static let standard: [String] = [
        "A", "Er", "Ei", "Ec", "Sa", "Sb", "Sc", "Sd", "Se", "SBa", "SBb", "SBc", "SBd",
    ]

    /// The four high-level classes, in report order.
    public static let highLevelClasses: [String] = ["Ambiguous", "Elliptical", "Spiral", "BarredSpiral"]

    /// The high-level class of a low-level label. Labels outside the standard set map to themselves,
    /// so a model with its own vocabulary still scores.
    public static func highLevelClass(of label: String) -> String {
        switch label {
        case "A": return "Ambiguous"
        case "Er", "Ei", "Ec": return "Elliptical"
        case "Sa", "Sb", "Sc", "Sd", "Se": return "Spiral"
        case "SBa", "SBb", "SBc", "SBd": return "BarredSpiral"
        default: return label
        }
    }
}
