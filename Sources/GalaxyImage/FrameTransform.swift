import Foundation

/// A similarity transform of the full decoded frame about its centre, applied before the crop:
/// mirror left-right (optional), then rotate counterclockwise on screen, then zoom, then shift.
/// Preprocessing with `.identity` is exactly the plain crop; a pure rotation is what
/// `Preprocessor.preprocess(jpeg:rotationDegrees:)` applies.
public struct FrameTransform: Sendable, Hashable, Codable {
    /// Counterclockwise rotation on screen, in degrees (as Pillow's `Image.rotate`).
    public var rotationDegrees: Double
    /// Zoom factor: above 1 magnifies the content (the crop then shows less of the frame).
    public var scale: Double
    /// Mirror the frame left-right about its vertical centre line, before rotating.
    public var mirrored: Bool
    /// How far the content moves right, in pixels of the decoded frame, after rotation and zoom.
    public var shiftX: Double
    /// How far the content moves down, in pixels of the decoded frame, after rotation and zoom.
    public var shiftY: Double

    public init(
        rotationDegrees: Double = 0, scale: Double = 1, mirrored: Bool = false, shiftX: Double = 0,
        shiftY: Double = 0
    ) {
        self.rotationDegrees = rotationDegrees
        self.scale = scale
        self.mirrored = mirrored
        self.shiftX = shiftX
        self.shiftY = shiftY
    }

    /// Leaves every pixel where it is.
    public static let identity = FrameTransform()

    /// True when the transform moves no pixel: a multiple of 360 degrees and nothing else.
    public var isIdentity: Bool {
        rotationDegrees.truncatingRemainder(dividingBy: 360) == 0 && scale == 1 && !mirrored
            && shiftX == 0 && shiftY == 0
    }

    /// Why this transform cannot be applied, or nil when it can.
    public var problem: String? {
        if !rotationDegrees.isFinite { return "rotation \(rotationDegrees) is not a finite angle" }
        if !(scale > 0 && scale.isFinite) { return "scale \(scale) must be a positive finite factor" }
        if !shiftX.isFinite || !shiftY.isFinite { return "shift (\(shiftX), \(shiftY)) must be finite" }
        return nil
    }
}

/// What a warped frame shows where the transform looks outside the decoded image.
public enum WarpEdges: Sendable, Hashable {
    /// Black, as Pillow's `Image.rotate` (the scorer's rotations).
    case black
    /// The nearest edge pixel, so augmentation never shows an artificial border.
    case replicate
}
