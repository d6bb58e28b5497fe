// Quoting of strings and numbers for gnuplot scripts and data files, and the
// tick computation for logarithmic axes.

import Foundation

/// Turns Swift strings and numbers into gnuplot source text.
public enum GnuplotText {
    /// Characters that gnuplot's enhanced text mode interprets
    /// (superscript, subscript, overprint, font groups, escapes).
    static let enhancedSpecials: Set<Unicode.Scalar> = ["\\", "^", "_", "@", "&", "~", "{", "}"]

    /// A single-quoted gnuplot string literal that displays `text` literally.
    ///
    /// Single quotes are doubled (gnuplot's only escape inside '...'); line
    /// breaks become spaces; with `enhanced` (titles, labels, key entries) the
    /// enhanced-text control characters `\ ^ _ @ & ~ { }` get a backslash, so
    /// "p_accept" is not drawn as p with a subscript.
    public static func string(_ text: String, enhanced: Bool = true) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "'":
                out += "''"
            case "\n", "\r", "\t":
                out += " "
            default:
                if enhanced && enhancedSpecials.contains(scalar) { out += "\\" }
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    /// A file name as a gnuplot string literal (no enhanced-text escapes).
    public static func fileName(_ name: String) -> String {
        string(name, enhanced: false)
    }

    /// A number as gnuplot reads it: the shortest text that round-trips
    /// (`0.1`, `1e-05`), integers without a trailing `.0`, and `?` (the
    /// missing-value marker every SpecLab script declares) for NaN and infinities.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "?" }
        if value == 0 { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A tick label: plain decimal numbers (`1 2 4 8 16`, `0.5`, `1000000`),
    /// never exponent notation for integers below 1e15.
    public static func tickLabel(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }

    /// A number rounded to 6 significant digits, for script settings where
    /// exactness does not matter (padded axis ranges, palette positions) but
    /// a reader editing the script does.
    static func rounded(_ value: Double) -> String {
        value.isFinite ? String(format: "%.6g", value) : "?"
    }

    /// Text for a `#` comment line in a script or data file: one line, no control characters.
    static func comment(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) })
    }

    /// `set xtics (...)`-style list: `('1' 1, '2' 2, ...)`.
    static func ticList(_ ticks: [(label: String, position: Double)]) -> String {
        "(" + ticks.map { "\(string($0.label)) \(number($0.position))" }.joined(separator: ", ") + ")"
    }
}

/// A logarithmic axis: its range and the ticks to label, with plain-number labels.
struct LogAxis: Equatable {
    var lower: Double
    var upper: Double
    var ticks: [Double]

    /// The range and ticks for data spanning `dataMin...dataMax` (both > 0).
    ///
    /// Ticks sit at powers of `base` (for base 10 over at most two decades
    /// also at 2x and 5x); more than 16 powers are thinned to every n-th. An
    /// unset bound is the data bound padded by 4% of the span (at least 0.05
    /// of a power) so markers do not sit on the border.
    init?(dataMin: Double, dataMax: Double, base: Double, fixedLower: Double?, fixedUpper: Double?) {
        guard base > 1 else { return nil }
        let lowData = fixedLower ?? dataMin
        let highData = fixedUpper ?? dataMax
        guard lowData > 0, highData > 0, lowData.isFinite, highData.isFinite, lowData <= highData else {
            return nil
        }
        let logBase = { (x: Double) in log(x) / log(base) }
        let span = logBase(highData) - logBase(lowData)
        let padExponent = span == 0 ? 0.5 : max(0.05, 0.04 * span)
        var lower = fixedLower ?? lowData / pow(base, padExponent)
        var upper = fixedUpper ?? highData * pow(base, padExponent)

        let lowestPower = Int(floor(logBase(lower) + 1e-9))
        let highestPower = Int(ceil(logBase(upper) - 1e-9))
        var candidates: [Double] = []
        let multiples: [Double] = (base == 10 && highestPower - lowestPower <= 3) ? [1, 2, 5] : [1]
        for power in lowestPower...highestPower {
            for multiple in multiples { candidates.append(multiple * pow(base, Double(power))) }
        }
        let tolerance = 1e-9
        var inside = candidates.filter { $0 >= lower * (1 - tolerance) && $0 <= upper * (1 + tolerance) }
        if inside.count < 2 {
            // Too narrow for two ticks: widen to the nearest ticks around the data.
            let below = candidates.last { $0 <= lowData * (1 + tolerance) } ?? candidates.first!
            let above = candidates.first { $0 >= highData * (1 - tolerance) } ?? candidates.last!
            if fixedLower == nil { lower = min(lower, below) }
            if fixedUpper == nil { upper = max(upper, above) }
            inside = candidates.filter { $0 >= lower * (1 - tolerance) && $0 <= upper * (1 + tolerance) }
        }
        if inside.count > 16 {
            let stride = Int((Double(inside.count) / 12).rounded(.up))
            inside = inside.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        }
        self.lower = lower
        self.upper = upper
        self.ticks = inside
    }
}

/// An sRGB colour as gnuplot reads it (`'#rrggbb'`), with interpolation for palettes.
struct RGBColor: Equatable {
    var red: Double, green: Double, blue: Double  // each in 0...1

    init(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        let value = Int(digits, radix: 16) ?? 0
        red = Double((value >> 16) & 0xFF) / 255
        green = Double((value >> 8) & 0xFF) / 255
        blue = Double(value & 0xFF) / 255
    }

    init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Perceived brightness (Rec. 709 weights on the sRGB components), 0 black ... 1 white.
    var luma: Double { 0.2126 * red + 0.7152 * green + 0.0722 * blue }

    /// The colour at `fraction` (0...1) along stops at positions 0...1, as
    /// gnuplot's `set palette defined` interpolates them (linearly in RGB).
    static func interpolate(_ stops: [(position: Double, color: String)], at fraction: Double) -> RGBColor {
        guard let first = stops.first, let last = stops.last else { return RGBColor(red: 0, green: 0, blue: 0) }
        let t = min(max(fraction.isFinite ? fraction : 0, 0), 1)
        if t <= first.position { return RGBColor(hex: first.color) }
        for (a, b) in zip(stops, stops.dropFirst()) where t <= b.position {
            let weight = b.position > a.position ? (t - a.position) / (b.position - a.position) : 1
            let start = RGBColor(hex: a.color), end = RGBColor(hex: b.color)
            return RGBColor(red: start.red + (end.red - start.red) * weight,
                            green: start.green + (end.green - start.green) * weight,
                            blue: start.blue + (end.blue - start.blue) * weight)
        }
        return RGBColor(hex: last.color)
    }
}
