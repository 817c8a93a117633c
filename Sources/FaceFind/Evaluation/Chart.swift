import Foundation

/// A line chart of rates (0...1 on the y axis, from `yMin`), with a title, x ticks and one legend line per
/// curve: the canvas of the CMC and ROC pictures.
struct Chart {
    static let palette: [RGB] = [.blue, .red, .green, RGB(160, 60, 200), RGB(240, 140, 20), RGB(20, 160, 170),
                                 RGB(120, 80, 40), .grey]
    static let left = 60, top = 30, plotWidth = 560, plotHeight = 360, legendLine = 14

    private(set) var canvas: RGBImage
    let yMin: Double
    /// Maps an x value to its position across the plot, 0...1.
    let position: (Double) -> Double

    /// The lowest y worth showing when the curves start at `low`: 0.05 below, down to a multiple of 0.05, so
    /// that close curves stay apart.
    static func axisStart(below low: Double) -> Double { max(0, ((low - 0.05) * 20).rounded(.down) / 20) }

    /// A frame with the title and the y ticks every 0.05 drawn, room for `legendRows` legend lines.
    init(title: String, legendRows: Int, yMin: Double, position: @escaping (Double) -> Double) {
        self.yMin = yMin
        self.position = position
        canvas = RGBImage(width: Self.left + Self.plotWidth + 30,
                          height: Self.top + Self.plotHeight + 50 + Self.legendLine * legendRows, fill: .white)
        canvas.drawText(title, x: Self.left, y: 8, color: .black)
        canvas.strokeRect(x: Self.left, y: Self.top, width: Self.plotWidth + 1, height: Self.plotHeight + 1,
                          color: .black, thickness: 1)
        var tick = yMin
        while tick <= 1.0001 {
            let y = Int(py(tick))
            canvas.drawLine(from: Point2(Float(Self.left - 4), Float(y)), to: Point2(Float(Self.left), Float(y)), color: .black)
            canvas.drawText(String(format: "%.2f", tick), x: 8, y: y - 4, color: .black)
            tick += 0.05
        }
    }

    func px(_ x: Double) -> Float { Float(Self.left) + Float(position(x)) * Float(Self.plotWidth) }
    func py(_ y: Double) -> Float {
        Float(Self.top) + Float((1 - max(y, yMin)) / max(1 - yMin, 1e-6)) * Float(Self.plotHeight)
    }

    /// Ticks under the x axis, and the axis name.
    mutating func xTicks(_ ticks: [(value: Double, label: String)], name: String) {
        let bottom = Self.top + Self.plotHeight
        for tick in ticks {
            let x = Int(px(tick.value))
            canvas.drawLine(from: Point2(Float(x), Float(bottom)), to: Point2(Float(x), Float(bottom + 4)), color: .black)
            canvas.drawText(tick.label, x: x - 4 * tick.label.count / 2, y: bottom + 8, color: .black)
        }
        canvas.drawText(name, x: Self.left + Self.plotWidth / 2 - 4 * name.count, y: bottom + 22, color: .black)
    }

    /// Curve number `row`: its points joined in its colour, and its legend line.
    mutating func curve(_ points: [(x: Double, y: Double)], row: Int, legend: String) {
        let colour = Self.palette[row % Self.palette.count]
        for (a, b) in zip(points, points.dropFirst()) {
            canvas.drawLine(from: Point2(px(a.x), py(a.y)), to: Point2(px(b.x), py(b.y)), color: colour, thickness: 2)
        }
        canvas.drawText(legend, x: Self.left, y: Self.top + Self.plotHeight + 36 + row * Self.legendLine, color: colour)
    }
}
