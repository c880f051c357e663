// Errors across the C boundary: `cs_error` objects (a status code and a one-line message) for the calls that
// create things, and static per-handle statuses for the real-time calls, which must not allocate.

/// A failure of a constructor, turned into a `cs_error` for the host.
struct APIError: Error {
    /// The status code (cs_status).
    var status: cs_status
    /// One line naming the file, the JSON path or the argument.
    var message: String

    init(_ status: cs_status, _ message: String) {
        self.status = status
        self.message = CString.oneLine(message)
    }
}

/// The memory behind a `cs_error *`: a status and a NUL-terminated message, in one allocation.
struct ErrorObject {
    var status: Int32
    var message: UnsafeMutablePointer<CChar>

    /// Stores `failure` in `*out` (when `out` is not NULL), and logs it.
    static func report(_ failure: APIError, to out: UnsafeMutablePointer<OpaquePointer?>?) {
        Log.write(CS_LOG_ERROR, failure.message)
        guard let out else { return }
        let object = UnsafeMutablePointer<ErrorObject>.allocate(capacity: 1)
        object.initialize(
            to: ErrorObject(
                status: Int32(bitPattern: failure.status.rawValue),
                message: CString.owned(failure.message)))
        out.pointee = OpaquePointer(object)
    }

    /// Runs a constructor's body: its result, or NULL with the error stored in `*out`. Success stores NULL.
    static func catching<T>(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ body: () throws(APIError) -> T) -> T? {
        out?.pointee = nil
        do {
            return try body()
        } catch {
            report(error, to: out)
            return nil
        }
    }
}

@c @implementation
public func cs_error_message(_ e: OpaquePointer?) -> UnsafePointer<CChar>! {
    guard let e else { return successText }
    return UnsafePointer(UnsafeMutablePointer<ErrorObject>(e).pointee.message)
}

@c @implementation
public func cs_error_code(_ e: OpaquePointer?) -> Int32 {
    guard let e else { return Int32(bitPattern: CS_OK.rawValue) }
    return UnsafeMutablePointer<ErrorObject>(e).pointee.status
}

@c @implementation
public func cs_error_free(_ e: OpaquePointer?) {
    guard let e else { return }
    let object = UnsafeMutablePointer<ErrorObject>(e)
    object.pointee.message.deallocate()
    object.deinitialize(count: 1)
    object.deallocate()
}
