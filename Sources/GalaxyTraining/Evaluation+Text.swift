import Foundation

extension Evaluation {
    /// The printed report: a summary per level (accuracy, macro-F1, ECE), then per level its
    /// confusion matrix with per-row error rates and a precision/recall/F1 table.
    public var text: String {
        var lines = [
            "Evaluation of \(imageCount) images (\(vocabulary.count) labels, \(vocabulary.highLevelClasses.count) classes)"
        ]
        if lowLevelExcluded > 0 {
            lines.append(
                "\(lowLevelExcluded) images have vote fractions as targets: counted at the high level and morphology, and in the log-loss, not in low-level accuracy"
            )
        }
        lines.append(
            Self.pad("level", 12) + Self.pad("n", 8) + Self.pad("accuracy", 10) + Self.pad("macro-F1", 10)
                + Self.pad("ECE", 8))
        for level in levels {
            lines.append(
                Self.pad(level.level.rawValue, 12) + Self.pad(String(level.count), 8)
                    + Self.pad(Self.percent(level.accuracy), 10)
                    + Self.pad(Self.fixed(level.macroF1), 10)
                    + Self.pad(Self.fixed(level.calibration.expectedCalibrationError), 8))
        }
        lines.append("log-loss (mean NLL of the target, low level): \(Self.fixed(logLoss))")
        lines.append(
            "ECE: \(Calibration.standardBinCount) equal-width confidence bins, Σ (n_b/N)·|accuracy_b − confidence_b|"
        )
        for level in levels {
            lines.append("")
            lines.append(
                level.matrix.table(
                    title:
                        "\(level.level.rawValue.capitalizedFirst) confusion matrix (\(level.groups.count) classes)"
                ))
            lines.append("")
            lines.append(level.classTable)
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.2f%%", $0 * 100) } ?? "-"
    }
    static func fixed(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }
}

extension LevelEvaluation {
    /// Per class: precision, recall, F1, support (targets exactly this class) and predictions.
    public var classTable: String {
        let width = max(8, (groups.map(\.count).max() ?? 0) + 1)
        var lines = [
            "\(level.rawValue.capitalizedFirst) precision / recall / F1 (macro-F1 \(Evaluation.fixed(macroF1)) over classes with support)",
            Evaluation.pad("", width) + Evaluation.pad("precision", 11) + Evaluation.pad("recall", 9)
                + Evaluation.pad("F1", 8)
                + Evaluation.pad("support", 9) + Evaluation.pad("predicted", 11),
        ]
        for c in classes {
            lines.append(
                Evaluation.pad(c.name, width) + Evaluation.pad(Evaluation.fixed(c.precision), 11)
                    + Evaluation.pad(Evaluation.fixed(c.recall), 9)
                    + Evaluation.pad(Evaluation.fixed(c.f1), 8) + Evaluation.pad(String(c.support), 9)
                    + Evaluation.pad(String(c.predicted), 11))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// "low-level" -> "Low-level".
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
