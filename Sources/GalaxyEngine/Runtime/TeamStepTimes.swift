import CGalaxyKernels
import Foundation

/// Where a team's time goes, step by step: for each member, the time in its parts of each phase and
/// in the wait after it, summed over the images it ran. Recorded only while a model is asked to
/// (`InferenceModel.recordTeamSteps`); `galaxy-bench engine time --team-steps` prints it. This is
/// how docs/engine.md found which phases a team of two loses time in.
final class TeamStepTimes: @unchecked Sendable {
    let steps: Int, members: Int
    /// Per step and member: nanoseconds in parts, nanoseconds waiting, images. Members add to
    /// their own slots, atomically, since concurrent callers' teams share a plan.
    private let slots: UnsafeMutablePointer<Int>

    init(steps: Int, members: Int) {
        self.steps = steps
        self.members = members
        slots = .allocate(capacity: 3 * steps * members)
        slots.initialize(repeating: 0, count: 3 * steps * members)
    }

    deinit { slots.deallocate() }

    func record(step: Int, member: Int, working: UInt64, waiting: UInt64) {
        let slot = slots + 3 * (step * members + member)
        galaxy_team_add(slot, Int(working))
        galaxy_team_add(slot + 1, Int(waiting))
        galaxy_team_add(slot + 2, 1)
    }

    /// Microseconds per image in parts and waiting, and images, of `member` at `step`.
    func perImage(step: Int, member: Int) -> (working: Double, waiting: Double, images: Int) {
        let slot = slots + 3 * (step * members + member)
        let images = galaxy_team_load(slot + 2)
        guard images > 0 else { return (0, 0, 0) }
        return (Double(galaxy_team_load(slot)) / 1e3 / Double(images), Double(galaxy_team_load(slot + 1)) / 1e3 / Double(images), images)
    }

    /// One line per step: its layer and phase, and each member's time per image in parts and waiting.
    func report(plan: TeamRun.Plan) -> String {
        var lines = ["team of \(members), microseconds per image: step, layer, phase (parts); then per member: in parts + waiting (images)"]
        for (i, step) in plan.steps.enumerated() {
            let layer = plan.layers[step.layer]
            var line = "\(i) \(String(describing: type(of: layer))) \(step.layer), phase \(step.phase) (\(step.parts)):"
            for member in 0..<members {
                let t = perImage(step: i, member: member)
                line += String(format: "  %.2f + %.2f (%ld)", t.working, t.waiting, t.images)
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
