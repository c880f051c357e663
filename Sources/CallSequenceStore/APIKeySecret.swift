// API key secrets: 256 random bits, shown once; the store keeps only their SHA-256 (FIPS 180-4), so a copy of
// the database does not give anyone a usable key. A presented key is hashed and looked up by hash: the
// comparison is the database's index lookup on a value an attacker cannot choose a preimage for.

import Crypto

enum APIKeySecret {
    /// `csk_` and 43 base64url characters (RFC 4648 §5, no padding) of 32 random bytes.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "csk_" + base64url(bytes)
    }

    /// The lowercase hex SHA-256 of the secret's UTF-8 bytes.
    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map {
            StoreRules.hexDigits[Int($0 >> 4)] + StoreRules.hexDigits[Int($0 & 15)]
        }
        .joined()
    }

    /// The part shown in listings.
    static func prefix(_ secret: String) -> String { String(secret.prefix(8)) }

    /// Presented text that could be a key at all (bounded before hashing).
    static func plausible(_ text: String) -> Bool { text.utf8.count <= 128 && text.hasPrefix("csk_") }

    static func base64url(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var i = 0
        while i + 2 < bytes.count {
            let n = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[(n >> shift) & 63]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = Int(bytes[i]) << 16
            for shift in [18, 12] { out.append(alphabet[(n >> shift) & 63]) }
        } else if rest == 2 {
            let n = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8
            for shift in [18, 12, 6] { out.append(alphabet[(n >> shift) & 63]) }
        }
        return out
    }
}
