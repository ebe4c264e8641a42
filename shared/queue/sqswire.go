package queue

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The SQS wire format, shared by the SQS adapter (which sends and receives) and SQSHandler (which
// decodes Lambda's SQS events): the body travels as it is when it is XML-safe text, else base64
// with SQSEncodingAttribute set; the key travels in SQSKeyAttribute.
const (
	SQSKeyAttribute      = "orderhub-key"
	SQSEncodingAttribute = "orderhub-encoding"
	sqsBase64            = "base64"
)

// EncodeSQSBody returns body as an SQS message body and the value of SQSEncodingAttribute for it
// ("" when the body travels as it is: then the attribute is left out).
func EncodeSQSBody(body []byte) (text, encoding string) {
	if isTextBytes(body) {
		return string(body), ""
	}
	return base64.StdEncoding.EncodeToString(body), sqsBase64
}

// DecodeSQSBody reverses EncodeSQSBody.
func DecodeSQSBody(text, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		return []byte(text), nil
	case sqsBase64:
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return nil, fmt.Errorf("queue: decode base64 body: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("queue: unknown body encoding %q", encoding)
}

// SQSAttempt parses SQS's ApproximateReceiveCount (0 when missing or malformed).
func SQSAttempt(receiveCount string) int {
	n, err := strconv.Atoi(receiveCount)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// SQSTime parses an SQS timestamp attribute such as SentTimestamp (epoch milliseconds).
func SQSTime(ms string) time.Time {
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

func isTextBytes(b []byte) bool {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 || !xmlSafe(r) {
			return false
		}
		i += n
	}
	return true
}
