import CPNG

/// A picture of palette indices (at most 256 colours), drawn with filled rectangles, lines and the 5x7
/// bitmap font, and written as an indexed PNG (ISO/IEC 15948: PLTE + IDAT, no time or text chunks, so the
/// same picture always gives the same bytes).
struct Raster {
    let width: Int
    let height: Int
    /// The colours, as (red, green, blue); pixels hold indices into it.
    let palette: [(UInt8, UInt8, UInt8)]
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, palette: [(UInt8, UInt8, UInt8)], background: UInt8) {
        self.width = width
        self.height = height
        self.palette = palette
        pixels = [UInt8](repeating: background, count: width * height)
    }

    /// Sets one pixel; outside the picture, nothing.
    mutating func set(_ x: Int, _ y: Int, _ color: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        pixels[y * width + x] = color
    }

    /// Fills the rectangle of corner (x, y) and the given size, clipped to the picture.
    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: UInt8) {
        let x0 = max(x, 0)
        let y0 = max(y, 0)
        let x1 = min(x + w, width)
        let y1 = min(y + h, height)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            let base = row * width
            for column in x0..<x1 { pixels[base + column] = color }
        }
    }

    /// The outline of a rectangle, one pixel wide.
    mutating func frame(x: Int, y: Int, width w: Int, height h: Int, _ color: UInt8) {
        fill(x: x, y: y, width: w, height: 1, color)
        fill(x: x, y: y + h - 1, width: w, height: 1, color)
        fill(x: x, y: y, width: 1, height: h, color)
        fill(x: x + w - 1, y: y, width: 1, height: h, color)
    }

    /// A straight line (Bresenham), with every `dash`-th run of pixels left out when `dash` > 0.
    mutating func line(from a: (Int, Int), to b: (Int, Int), _ color: UInt8, dash: Int = 0) {
        var (x, y) = a
        let dx = abs(b.0 - x)
        let dy = -abs(b.1 - y)
        let sx = x < b.0 ? 1 : -1
        let sy = y < b.1 ? 1 : -1
        var error = dx + dy
        var step = 0
        while true {
            if dash <= 0 || (step / dash) % 2 == 0 { set(x, y, color) }
            if x == b.0 && y == b.1 { break }
            let e2 = 2 * error
            if e2 >= dy {
                error += dy
                x += sx
            }
            if e2 <= dx {
                error += dx
                y += sy
            }
            step += 1
        }
    }

    /// Writes `text` with its top-left corner at (x, y), each font pixel `scale` pixels square; characters
    /// outside printable ASCII are drawn as '?'. Returns the x after the last character.
    @discardableResult
    mutating func text(_ text: String, x: Int, y: Int, _ color: UInt8, scale: Int = 1) -> Int {
        var cursor = x
        for scalar in text.unicodeScalars {
            let columns = BitmapFont.glyph(scalar)
            for (cx, bits) in columns.enumerated() {
                for cy in 0..<BitmapFont.height where bits & (1 << cy) != 0 {
                    fill(x: cursor + cx * scale, y: y + cy * scale, width: scale, height: scale, color)
                }
            }
            cursor += BitmapFont.advance * scale
            if cursor >= width { break }
        }
        return cursor
    }

    /// The width `text` takes at scale 1.
    static func textWidth(_ text: String) -> Int {
        text.unicodeScalars.count * BitmapFont.advance
    }

    /// The picture as PNG bytes (8-bit colour-mapped), or nil with libpng's message when it fails.
    func png() -> Result<[UInt8], PNGError> {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)  // PNG_FORMAT_RGB_COLORMAP
        image.colormap_entries = png_uint_32(palette.count)
        var colormap: [UInt8] = []
        for (r, g, b) in palette { colormap += [r, g, b] }
        var size: png_alloc_size_t = 0
        // First the size (memory == nil), then the bytes.
        var ok = pixels.withUnsafeBufferPointer { p in
            colormap.withUnsafeBufferPointer { c in
                png_image_write_to_memory(&image, nil, &size, 0, p.baseAddress, png_int_32(width), c.baseAddress)
            }
        }
        guard ok != 0, size > 0 else { return .failure(PNGError(image)) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        ok = bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBufferPointer { p in
                colormap.withUnsafeBufferPointer { c in
                    png_image_write_to_memory(
                        &image, out.baseAddress, &size, 0, p.baseAddress, png_int_32(width),
                        c.baseAddress)
                }
            }
        }
        png_image_free(&image)
        guard ok != 0 else { return .failure(PNGError(image)) }
        return .success(Array(bytes.prefix(Int(size))))
    }
}

/// libpng's message for a failed write.
struct PNGError: Error, CustomStringConvertible {
    let description: String
    init(_ image: png_image) {
        var message = image.message
        description = withUnsafeBytes(of: &message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
