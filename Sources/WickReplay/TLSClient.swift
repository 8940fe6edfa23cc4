import CWickLinux

/// A TLS client context: the certificates a sink trusts (the system's, or those of a CA file),
/// loaded once and shared by its requests.
public final class TLSClient: @unchecked Sendable {
    // OpenSSL's SSL_CTX may be shared between threads once it is set up, and it is not changed after.
    let context: UnsafeMutableRawPointer

    public init(caFile: String?) throws(PlainHTTP.Failure) {
        var error = [CChar](repeating: 0, count: 512)
        guard let context = CWickLinux_tls_context(caFile, &error, error.count) else {
            throw PlainHTTP.Failure(description: messageText(error))
        }
        self.context = context
    }

    deinit {
        CWickLinux_tls_context_free(context)
    }
}

/// The text a C function wrote into `buffer`, up to its terminating zero.
func messageText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
