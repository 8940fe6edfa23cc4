/// Why a line was rejected by ``JSONScanner`` or ``JSONValue/parse(_:limits:)``, and where.
///
/// The error never carries payload bytes, only a ``Code`` and a byte offset, so it is safe to log and to
/// count. ``Code/reason`` is the stable label used for reject metrics.
public struct JSONScanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. A struct over a private enum, so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        @usableFromInline
        enum Base: UInt8, Sendable, Hashable, CaseIterable {
            case empty
            case truncated
            case invalidUTF8
            case byteOrderMark
            case tooDeep
            case invalidNumber
            case invalidLiteral
            case unexpectedByte
            case controlCharacterInString
            case invalidEscape
            case loneSurrogate
            case trailingBytes
            case notAnObject
        }

        @usableFromInline
        let base: Base

        @usableFromInline
        init(_ base: Base) {
            self.base = base
        }

        /// The input held nothing but whitespace.
        public static let empty = Code(.empty)
        /// The input ended inside a value (an unclosed string, object or array, or a cut-off token).
        public static let truncated = Code(.truncated)
        /// A string held bytes that are not well-formed UTF-8 (overlong forms, encoded surrogates,
        /// code points above U+10FFFF, stray continuation bytes, cut-off sequences).
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// The input started with a UTF-8 byte order mark, which RFC 8259 §8.1 forbids senders to add.
        public static let byteOrderMark = Code(.byteOrderMark)
        /// Objects and arrays were nested deeper than ``JSONLimits/maxDepth``.
        public static let tooDeep = Code(.tooDeep)
        /// A number broke the RFC 8259 grammar (leading zero, missing digits, `+1`, `.5`, `1.` …).
        public static let invalidNumber = Code(.invalidNumber)
        /// A bare word other than `true`, `false` or `null` (for example `NaN` or `Infinity`).
        public static let invalidLiteral = Code(.invalidLiteral)
        /// A byte that cannot start or continue a value here (a missing comma, a stray bracket …).
        public static let unexpectedByte = Code(.unexpectedByte)
        /// A raw byte below 0x20 inside a string: it must be written as an escape.
        public static let controlCharacterInString = Code(.controlCharacterInString)
        /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
        public static let invalidEscape = Code(.invalidEscape)
        /// A `\u` escape of a UTF-16 surrogate that is not part of a high–low pair.
        public static let loneSurrogate = Code(.loneSurrogate)
        /// Something other than whitespace followed the top-level value.
        public static let trailingBytes = Code(.trailingBytes)
        /// The line is valid JSON but its top-level value is not an object.
        public static let notAnObject = Code(.notAnObject)

        /// Every code, in a stable order (for metrics that pre-register one counter per reason).
        public static let allCodes: [Code] = Base.allCases.map(Code.init)

        /// A short, stable snake_case label, used as the reject reason in metrics and dead letters.
        public var reason: String {
            switch base {
            case .empty: "json_empty"
            case .truncated: "json_truncated"
            case .invalidUTF8: "json_invalid_utf8"
            case .byteOrderMark: "json_byte_order_mark"
            case .tooDeep: "json_too_deep"
            case .invalidNumber: "json_invalid_number"
            case .invalidLiteral: "json_invalid_literal"
            case .unexpectedByte: "json_unexpected_byte"
            case .controlCharacterInString: "json_control_character_in_string"
            case .invalidEscape: "json_invalid_escape"
            case .loneSurrogate: "json_lone_surrogate"
            case .trailingBytes: "json_trailing_bytes"
            case .notAnObject: "json_not_an_object"
            }
        }

        public var description: String { reason }
    }

    /// What went wrong.
    public var code: Code
    /// The offset of the offending byte from the start of the input (for ``Code/truncated``: the input's length;
    /// for ``Code/notAnObject``: where the top-level value starts).
    public var offset: Int

    /// Makes an error; the scanner is the usual source, tests and callers may build their own.
    @inlinable
    public init(_ code: Code, at offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String { "JSONScanError(\(code.reason) at byte \(offset))" }
}
