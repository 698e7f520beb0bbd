package tasks

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/integrationd/integrationd/internal/value"
)

// emailMaxAttachmentBytes bounds the decoded size of all the attachments of
// one mail (integrationd's choice: Google documents no limit; 25 MiB is a
// common relay limit).
const emailMaxAttachmentBytes = 25 << 20

// emailAttachment is one attachment. As JSON in AttachmentPath it is
// {"fileName": "a.pdf", "contentType": "application/pdf", "content": "<base64>"}.
type emailAttachment struct {
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType,omitempty"`
	Content     string `json:"content"`
	data        []byte
}

// attachmentLoader resolves the rendered elements of AttachmentPath.
type attachmentLoader struct {
	dir   string   // SMTPConfig.AttachmentDir; "" refuses local files
	root  *os.Root // opened on the first local file
	total int
	out   []emailAttachment
}

func (l *attachmentLoader) close() {
	if l.root != nil {
		_ = l.root.Close()
	}
}

// add resolves one rendered element: "" is skipped, a JSON object or array
// holds inline attachments, gs:// is refused, and anything else is a file
// under the attachment directory.
func (l *attachmentLoader) add(s string) error {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return nil
	case strings.HasPrefix(s, "{"):
		var a emailAttachment
		if err := decodeStrict(s, &a); err != nil {
			return fmt.Errorf("%s: attachment object: %v", pEmailAttachment, err)
		}
		return l.inline(a)
	case strings.HasPrefix(s, "["):
		var as []emailAttachment
		if err := decodeStrict(s, &as); err != nil {
			return fmt.Errorf("%s: array of attachment objects: %v", pEmailAttachment, err)
		}
		for _, a := range as {
			if err := l.inline(a); err != nil {
				return err
			}
		}
		return nil
	case strings.HasPrefix(s, "gs://"):
		return fmt.Errorf("%s %q: Cloud Storage objects are not supported; pass the content as an attachment object", pEmailAttachment, s)
	}
	return l.file(s)
}

func decodeStrict(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func (l *attachmentLoader) inline(a emailAttachment) error {
	if strings.TrimSpace(a.FileName) == "" {
		return fmt.Errorf("%s: an attachment object has no fileName", pEmailAttachment)
	}
	b64 := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, a.Content)
	enc := base64.StdEncoding
	if len(b64)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	if l.total+enc.DecodedLen(len(b64)) > emailMaxAttachmentBytes {
		return l.tooBig()
	}
	data, err := enc.DecodeString(b64)
	if err != nil {
		return fmt.Errorf("%s: attachment %q: content is not base64: %v", pEmailAttachment, a.FileName, err)
	}
	a.data = data
	return l.append(a)
}

func (l *attachmentLoader) file(p string) error {
	if l.dir == "" {
		return fmt.Errorf("%s %q: local files are off; start integrationd with --email-attachment-dir, or pass the content as an attachment object", pEmailAttachment, p)
	}
	rel := filepath.FromSlash(p)
	if filepath.IsAbs(rel) {
		r, err := filepath.Rel(l.dir, rel)
		if err != nil || !filepath.IsLocal(r) {
			return fmt.Errorf("%s %q: not in the attachment directory %s", pEmailAttachment, p, l.dir)
		}
		rel = r
	}
	if l.root == nil {
		root, err := os.OpenRoot(l.dir)
		if err != nil {
			return fmt.Errorf("%s: attachment directory: %v", pEmailAttachment, err)
		}
		l.root = root
	}
	// os.Root refuses names that leave the directory, by ".." or symlink.
	f, err := l.root.Open(rel)
	if err != nil {
		return fmt.Errorf("%s %q: %v", pEmailAttachment, p, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(emailMaxAttachmentBytes-l.total+1)))
	if err != nil {
		return fmt.Errorf("%s %q: %v", pEmailAttachment, p, err)
	}
	return l.append(emailAttachment{FileName: filepath.Base(rel), data: data})
}

func (l *attachmentLoader) append(a emailAttachment) error {
	l.total += len(a.data)
	if l.total > emailMaxAttachmentBytes {
		return l.tooBig()
	}
	a.FileName = attachmentName(a.FileName)
	if a.ContentType == "" {
		a.ContentType = mime.TypeByExtension(path.Ext(a.FileName))
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
		return fmt.Errorf("%s: attachment %q: contentType %q: %v", pEmailAttachment, a.FileName, a.ContentType, err)
	}
	l.out = append(l.out, a)
	return nil
}

func (l *attachmentLoader) tooBig() error {
	return fmt.Errorf("%s: attachments exceed %d MiB in all", pEmailAttachment, emailMaxAttachmentBytes>>20)
}

// emailMaxNameBytes bounds an attachment's file name, so that its encoded
// forms keep header lines under RFC 5322's 998 octets.
const emailMaxNameBytes = 200

// attachmentName keeps the last element of a name and drops control
// characters, so a name cannot smuggle a path or a header; a name longer
// than emailMaxNameBytes is shortened before its extension.
func attachmentName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s))
	if s == "" || s == "." || s == ".." {
		return "attachment"
	}
	if len(s) > emailMaxNameBytes {
		ext := path.Ext(s)
		if len(ext) > 20 {
			ext = ""
		}
		stem := s[:emailMaxNameBytes-len(ext)]
		for !utf8.ValidString(stem) { // cut at a rune boundary
			stem = stem[:len(stem)-1]
		}
		s = stem + ext
	}
	return s
}

// loadAttachments renders the AttachmentPath elements: an element that is
// one reference to a string array contributes each of its elements.
func loadAttachments(ts []*value.Template, g value.Getter, dir string) ([]emailAttachment, error) {
	l := &attachmentLoader{dir: dir}
	defer l.close()
	for _, t := range ts {
		v := t.Eval(g)
		items := []string{v.Text()}
		if v.Kind() == value.StringArray {
			items = v.Strings()
		}
		for _, s := range items {
			if err := l.add(s); err != nil {
				return nil, fmt.Errorf("EmailTask: %w", err)
			}
		}
	}
	return l.out, nil
}

// emailContent is what buildEmail puts in a message.
type emailContent struct {
	from          *mail.Address
	to, cc        []*mail.Address
	subject, body string
	html          bool
	attachments   []emailAttachment
	date          time.Time
}

// headerText removes line breaks so a rendered value cannot add headers.
func headerText(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// writeHeader writes "Key: value", folded at spaces so that lines stay
// near 78 characters (RFC 5322 §2.2.3); v must hold no line break.
func writeHeader(b *bytes.Buffer, k, v string) {
	line := k + ":"
	for i, w := range strings.Split(v, " ") {
		if i > 0 && len(line)+1+len(w) > 78 {
			b.WriteString(line + "\r\n")
			line = ""
		}
		line += " " + w
	}
	b.WriteString(line + "\r\n")
}

func joinAddrs(as []*mail.Address) string {
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

// buildEmail returns an RFC 5322 message. Without attachments it is one
// quoted-printable UTF-8 text part; with them, multipart/mixed with that
// part first and one base64 part per attachment. Bcc recipients appear in
// no header.
func buildEmail(c emailContent) []byte {
	var b bytes.Buffer
	writeHeader(&b, "Date", c.date.Format(time.RFC1123Z))
	writeHeader(&b, "From", c.from.String())
	if len(c.to) > 0 {
		writeHeader(&b, "To", joinAddrs(c.to))
	}
	if len(c.cc) > 0 {
		writeHeader(&b, "Cc", joinAddrs(c.cc))
	}
	writeHeader(&b, "Subject", mime.QEncoding.Encode("utf-8", headerText(c.subject)))
	writeHeader(&b, "Message-ID", messageID(c.from.Address))
	writeHeader(&b, "MIME-Version", "1.0")
	ct := "text/plain; charset=utf-8"
	if c.html {
		ct = "text/html; charset=utf-8"
	}
	if len(c.attachments) == 0 {
		writeHeader(&b, "Content-Type", ct)
		writeHeader(&b, "Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, c.body)
		return b.Bytes()
	}
	var parts bytes.Buffer
	mw := multipart.NewWriter(&parts)
	writeHeader(&b, "Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	// Writes to a bytes.Buffer cannot fail.
	w, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {ct},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	writeQP(w, c.body)
	for _, a := range c.attachments {
		w, _ := mw.CreatePart(attachmentHeader(a))
		writeBase64(w, a.data)
	}
	_ = mw.Close()
	b.Write(parts.Bytes())
	return b.Bytes()
}

// attachmentHeader names the file twice: RFC 2231 in Content-Disposition
// (the standard) and RFC 2047 in Content-Type's name (for older readers).
func attachmentHeader(a emailAttachment) textproto.MIMEHeader {
	mt, params, _ := mime.ParseMediaType(a.ContentType) // checked when loaded
	params["name"] = mime.QEncoding.Encode("utf-8", a.FileName)
	ct := mime.FormatMediaType(mt, params)
	if ct == "" {
		ct = "application/octet-stream"
	}
	cd := mime.FormatMediaType("attachment", map[string]string{"filename": a.FileName})
	if cd == "" {
		cd = "attachment"
	}
	return textproto.MIMEHeader{
		"Content-Type":              {ct},
		"Content-Disposition":       {cd},
		"Content-Transfer-Encoding": {"base64"},
	}
}

func writeQP(w io.Writer, body string) {
	qp := quotedprintable.NewWriter(w)
	_, _ = qp.Write([]byte(body))
	_ = qp.Close()
}

// writeBase64 writes data in base64 lines of 76 characters (RFC 2045).
func writeBase64(w io.Writer, data []byte) {
	s := base64.StdEncoding.EncodeToString(data)
	for len(s) > 76 {
		_, _ = io.WriteString(w, s[:76]+"\r\n")
		s = s[76:]
	}
	_, _ = io.WriteString(w, s+"\r\n")
}

func messageID(from string) string {
	domain := "integrationd.localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	var r [16]byte
	_, _ = rand.Read(r[:])
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}
