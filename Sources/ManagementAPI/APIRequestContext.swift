import CallSequenceStore
import Hummingbird
import NIOCore

/// A request's context: Hummingbird's core storage, the client's address, and the API key once authenticated.
package struct APIRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The peer's IP address (for the audit log), `unknown` when the channel has none.
    var address: String
    /// Who the key is; set by `Authentication` before any `/api` route runs.
    var identity: KeyIdentity?

    package init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        address = source.channel.remoteAddress?.ipAddress ?? "unknown"
        identity = nil
    }

    /// Bodies are bounded by each route (`Request.body.collect(upTo:)`), not by this default.
    package var maxUploadSize: Int { APILimits.maximumJSONBytes }

    /// The audit log's "who and from where".
    var origin: ChangeOrigin { ChangeOrigin(keyID: identity?.keyID, address: address) }

    /// The authenticated key (`Authentication` guarantees it on `/api` routes).
    func key() throws(Problem) -> KeyIdentity {
        guard let identity else { throw .unauthorized() }
        return identity
    }
}
