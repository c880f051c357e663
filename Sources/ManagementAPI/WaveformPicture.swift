import CPNG

/// The preview's picture: the waveform (each column's minimum and maximum), each step's span shaded in
/// turn, as an 800 × 200 colour-mapped PNG written to memory by libpng's simplified API.
enum WaveformPicture {
    static let width = 800
    static let height = 200
    /// Background, the two step shades, the centre line, the waveform.
    static let palette: [UInt8] = [255, 255, 255, 232, 238, 247, 247, 241, 228, 200, 200, 200, 31, 78, 140]

    static func png(_ samples: [Int16], steps: [(start: Int, end: Int)]) throws(Problem) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: width * height)
        let total = max(samples.count, 1)
        func column(_ sample: Int) -> Int { min(width - 1, max(0, sample * width / total)) }
        for (i, step) in steps.enumerated() {
            let shade: UInt8 = i % 2 == 0 ? 1 : 2
            for x in column(step.start)...column(max(step.start, step.end - 1)) {
                for y in 0..<height { pixels[y * width + x] = shade }
            }
        }
        let middle = height / 2
        for x in 0..<width { pixels[middle * width + x] = 3 }
        if !samples.isEmpty {
            for x in 0..<width {
                let from = x * samples.count / width
                let to = max(from + 1, (x + 1) * samples.count / width)
                var low = Int16.max
                var high = Int16.min
                for s in samples[from..<min(to, samples.count)] {
                    low = min(low, s)
                    high = max(high, s)
                }
                func y(_ s: Int16) -> Int { min(height - 1, max(0, middle - Int(s) * (middle - 2) / 32768)) }
                for row in y(high)...y(low) { pixels[row * width + x] = 4 }
            }
        }
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP)
        image.colormap_entries = png_uint_32(palette.count / 3)
        var size: png_alloc_size_t = 0
        var ok = pixels.withUnsafeBufferPointer { p in
            palette.withUnsafeBufferPointer { c in
                png_image_write_to_memory(&image, nil, &size, 0, p.baseAddress, png_int_32(width), c.baseAddress)
            }
        }
        guard ok != 0, size > 0 else { throw Problem(.internalServerError, "the picture could not be written") }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        ok = bytes.withUnsafeMutableBytes { out in
            pixels.withUnsafeBufferPointer { p in
                palette.withUnsafeBufferPointer { c in
                    png_image_write_to_memory(
                        &image, out.baseAddress, &size, 0, p.baseAddress, png_int_32(width), c.baseAddress)
                }
            }
        }
        png_image_free(&image)
        guard ok != 0 else { throw Problem(.internalServerError, "the picture could not be written") }
        return Array(bytes.prefix(Int(size)))
    }
}
