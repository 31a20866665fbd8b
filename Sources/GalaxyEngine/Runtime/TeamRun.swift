import CGalaxyKernels
import Foundation

/// One image run through the layers by a team of threads. Each layer's phases are split into
/// parts (`Layer.teamPhases(parts:)`); members take parts as they arrive and wait, spinning, for
/// the last part of a phase before the next. A member that joins late starts by skipping the
/// phases already done, and a run finishes even when no other member joins, so the team needs no
/// guarantee that its threads start together. Each member tries the parts from its own share
/// first (member m of M from part m * parts / M on), so with every member present the same member
/// runs the same parts image after image: the weights of its k's and the channels it wrote stay
/// in its core's cache instead of crossing between cores.
final class TeamRun: @unchecked Sendable {
    /// One phase of one layer.
    struct Step {
        let layer: Int
        let phase: Int
        let parts: Int
    }

    /// A model's steps for a team of `members` and what each member needs of its own.
    struct Plan: Sendable {
        let members: Int
        let layers: [any Layer]
        let steps: [Step]
        /// Where each step's part flags start among `flagCount`.
        let firstFlags: [Int]
        let flagCount: Int
        /// Floats each member needs of its own.
        let temporaryCount: Int
        /// Where this plan's teams spent their time, while a model records it.
        let stepTimes: TeamStepTimes

        init(graph: CompiledGraph, members: Int) {
            self.members = members
            layers = graph.layers
            let parts = TeamSplit.parts(members: members)
            steps = graph.layers.enumerated().flatMap { i, layer in
                layer.teamPhases(parts: parts).enumerated().filter { $0.element > 0 }.map {
                    Step(layer: i, phase: $0.offset, parts: $0.element)
                }
            }
            var first = 0
            firstFlags = steps.map { step in
                defer { first += step.parts }
                return first
            }
            flagCount = first
            temporaryCount = graph.layers.map(\.teamTemporaryCount).max() ?? 0
            stepTimes = TeamStepTimes(steps: steps.count, members: members)
        }
    }

    private let plan: Plan
    private let frame: Frame
    /// Per step the parts finished, then the members that joined, then a flag per part (taken).
    private let counters: UnsafeMutablePointer<Int>
    private let temporaries: UnsafeMutablePointer<Float>
    /// The caller's kernel path (a test may have switched its own thread's), for the members.
    private let kernelPath: UnsafePointer<CChar>
    /// The plan's step times when this run records them.
    private let stepTimes: TeamStepTimes?

    /// - Parameters:
    ///   - temporaries: `plan.temporaryCount` floats for each of `plan.members` members.
    ///   - recordsSteps: add each member's time in each step to `plan.stepTimes`.
    init(plan: Plan, frame: Frame, temporaries: UnsafeMutablePointer<Float>, recordsSteps: Bool = false) {
        precondition(frame.batch == 1, "a team runs one image")
        self.plan = plan
        self.frame = frame
        self.temporaries = temporaries
        stepTimes = recordsSteps ? plan.stepTimes : nil
        let count = plan.steps.count + 1 + plan.flagCount
        counters = .allocate(capacity: count)
        counters.initialize(repeating: 0, count: count)
        kernelPath = galaxy_kernel_path()
    }

    deinit { counters.deallocate() }

    /// Runs the image with the calling thread as member 0 and up to `plan.members - 1` helpers.
    /// Returns when every part has finished, without waiting for helpers: one still inside
    /// `participate` only reads this run's counters, which it keeps alive.
    func run() {
        TeamHelpers.shared.offer(self, seats: plan.members - 1)
        participate(member: 0)
        TeamHelpers.shared.withdraw(self)
    }

    /// A helper joins as the next member, or not at all when every seat is taken.
    func join() {
        let member = galaxy_team_claim(counters + plan.steps.count) + 1
        guard member < plan.members else { return }
        participate(member: member)
    }

    /// Works through the steps as member `member` until the image is done.
    private func participate(member: Int) {
        let ownPath = galaxy_kernel_path()!
        if ownPath != kernelPath { galaxy_set_kernel_path(kernelPath) }
        defer { if ownPath != kernelPath { galaxy_set_kernel_path(ownPath) } }
        let temporary = temporaries + member * plan.temporaryCount
        let flags = counters + plan.steps.count + 1
        for (i, step) in plan.steps.enumerated() {
            let finished = counters + i
            let own = member * step.parts / plan.members
            let began = stepTimes == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            for j in 0..<step.parts {
                let part = (own + j) % step.parts
                guard galaxy_team_take(flags + plan.firstFlags[i] + part) != 0 else { continue }
                plan.layers[step.layer].run(frame, phase: step.phase, part: part, of: step.parts, temporary: temporary)
                galaxy_team_finished(finished)
            }
            let worked = stepTimes == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            galaxy_team_wait(finished, step.parts)
            stepTimes?.record(step: i, member: member, working: worked - began, waiting: DispatchTime.now().uptimeNanoseconds - worked)
        }
    }
}

/// A model's team plans, one per team size asked for, made on first use.
final class TeamPlans: @unchecked Sendable {
    private let graph: CompiledGraph
    private let lock = NSLock()
    private var plans: [Int: TeamRun.Plan] = [:]
    private var recording = false

    init(graph: CompiledGraph) { self.graph = graph }

    /// The plan for `members`, and whether its runs record their step times now.
    func plan(members: Int) -> (plan: TeamRun.Plan, records: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[members] { return (plan, recording) }
        let plan = TeamRun.Plan(graph: graph, members: members)
        plans[members] = plan
        return (plan, recording)
    }

    /// Starts or stops the recording of step times in every plan's runs.
    func recordSteps(_ on: Bool) {
        lock.lock()
        recording = on
        lock.unlock()
    }
}
