package tasks

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/integrationd/integrationd/internal/engine"
	"github.com/integrationd/integrationd/internal/value"
)

// runEmail compiles an EmailTask with params, runs it against a plain
// loopback server with vars and returns the delivered message.
func runEmail(t *testing.T, cfg SMTPConfig, params map[string]string, vars *value.Vars) (*mail.Message, []byte, error) {
	t.Helper()
	be, addr := startSMTP(t, nil)
	cfg.Addr, cfg.From, cfg.TLS = addr, "noreply@example.org", SMTPTLSNone
	task, err := compileEmail(t, cfg, emailParams(params))
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Execute(t.Context(), &engine.TaskContext{Vars: vars, TaskID: "1", Now: time.Now}); err != nil {
		if n := len(be.delivered()); n != 0 {
			t.Errorf("the task failed (%v) but %d messages were delivered", err, n)
		}
		return nil, nil, err
	}
	msgs := be.delivered()
	if len(msgs) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(msgs))
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].data))
	if err != nil {
		t.Fatal(err)
	}
	return m, msgs[0].data, nil
}

type gotPart struct {
	header   map[string]string
	fileName string
	data     []byte
}

// readParts reads a multipart/mixed body, decoding each part's transfer
// encoding by hand (NextRawPart) so that the headers can be checked too.
func readParts(t *testing.T, m *mail.Message) []gotPart {
	t.Helper()
	mt, ps, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || ps["boundary"] == "" {
		t.Fatalf("Content-Type = %q (%v), want multipart/mixed with a boundary", m.Header.Get("Content-Type"), err)
	}
	if m.Header.Get("Content-Transfer-Encoding") != "" {
		t.Errorf("multipart message has Content-Transfer-Encoding %q", m.Header.Get("Content-Transfer-Encoding"))
	}
	mr := multipart.NewReader(m.Body, ps["boundary"])
	var parts []gotPart
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		gp := gotPart{header: map[string]string{}, fileName: p.FileName()}
		for k := range p.Header {
			gp.header[k] = p.Header.Get(k)
		}
		switch cte := p.Header.Get("Content-Transfer-Encoding"); cte {
		case "base64":
			for _, line := range strings.Split(strings.TrimRight(string(raw), "\r\n"), "\r\n") {
				if len(line) > 76 {
					t.Errorf("base64 line of %d characters", len(line))
				}
			}
			gp.data, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
		case "quoted-printable":
			gp.data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		default:
			t.Fatalf("part Content-Transfer-Encoding %q", cte)
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, gp)
	}
}

func TestEmailAttachments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	binary := make([]byte, 256*3)
	for i := range binary {
		binary[i] = byte(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "data.bin"), binary, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "notes.txt"), []byte("notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	csv := "id,name\n1,Zoë\n"
	vars := value.NewVars(map[string]value.Kind{"who": value.String, "report": value.JSON, "files": value.StringArray})
	_ = vars.Set("who", value.Str("ada@example.com"))
	rep, err := value.ParseJSON(fmt.Sprintf(`{"fileName": "Überweisung März.csv", "contentType": "text/csv; charset=utf-8", "content": %q}`,
		base64.StdEncoding.EncodeToString([]byte(csv))))
	if err != nil {
		t.Fatal(err)
	}
	_ = vars.Set("report", value.FromJSON(rep))
	_ = vars.Set("files", value.Strings([]string{"data.bin", filepath.Join(dir, "sub", "notes.txt")}))
	inline := fmt.Sprintf(`[{"fileName": "a.json", "content": %q}, {"fileName": "../../etc/passwd", "content": ""}]`,
		base64.RawStdEncoding.EncodeToString([]byte(`{"a":1}`)))

	m, _, err := runEmail(t, SMTPConfig{AttachmentDir: dir}, map[string]string{
		"To":             strArr("$who$"),
		"Subject":        `{"stringValue":"Report"}`,
		"TextBody":       `{"stringValue":"<p>See the attached files, Zoë.</p>"}`,
		"BodyFormat":     `{"stringValue":"html"}`,
		"AttachmentPath": strArr("$report$", "", inline, "$files$"),
	}, vars)
	if err != nil {
		t.Fatal(err)
	}
	parts := readParts(t, m)
	want := []struct {
		fileName, ctype string
		data            []byte
	}{
		{"", "text/html; charset=utf-8", []byte("<p>See the attached files, Zoë.</p>")},
		{"Überweisung März.csv", "text/csv", []byte(csv)},
		{"a.json", "application/json", []byte(`{"a":1}`)},
		{"passwd", "application/octet-stream", []byte{}},
		{"data.bin", "application/octet-stream", binary},
		{"notes.txt", "text/plain", []byte("notes\n")},
	}
	if len(parts) != len(want) {
		t.Fatalf("%d parts, want %d", len(parts), len(want))
	}
	for i, w := range want {
		p := parts[i]
		mt, ps, err := mime.ParseMediaType(p.header["Content-Type"])
		if err != nil {
			t.Fatalf("part %d: Content-Type %q: %v", i, p.header["Content-Type"], err)
		}
		if i == 0 {
			if p.header["Content-Type"] != w.ctype || p.header["Content-Disposition"] != "" {
				t.Errorf("body part headers = %v, want Content-Type %q", p.header, w.ctype)
			}
			if got := strings.TrimSuffix(string(p.data), "\r\n"); got != string(w.data) {
				t.Errorf("body = %q, want %q", got, w.data)
			}
			continue
		}
		if p.fileName != w.fileName {
			t.Errorf("part %d: file name %q, want %q", i, p.fileName, w.fileName)
		}
		if name, err := new(mime.WordDecoder).DecodeHeader(ps["name"]); err != nil || name != w.fileName {
			t.Errorf("part %d: Content-Type name = %q (%v), want %q", i, ps["name"], err, w.fileName)
		}
		if mt != w.ctype {
			t.Errorf("part %d: Content-Type = %q, want %s", i, p.header["Content-Type"], w.ctype)
		}
		if d, _, err := mime.ParseMediaType(p.header["Content-Disposition"]); err != nil || d != "attachment" {
			t.Errorf("part %d: Content-Disposition = %q", i, p.header["Content-Disposition"])
		}
		if !bytes.Equal(p.data, w.data) {
			t.Errorf("part %d (%s): %d bytes differ from the %d attached", i, w.fileName, len(p.data), len(w.data))
		}
	}
	if ps := mustParams(t, parts[1].header["Content-Type"]); ps["charset"] != "utf-8" {
		t.Errorf("the given contentType lost its charset: %q", parts[1].header["Content-Type"])
	}
}

func mustParams(t *testing.T, v string) map[string]string {
	t.Helper()
	_, ps, err := mime.ParseMediaType(v)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestEmailAttachmentErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	big, err := os.Create(filepath.Join(dir, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(emailMaxAttachmentBytes + 1); err != nil {
		t.Fatal(err)
	}
	_ = big.Close()
	cases := []struct {
		name, element, want string
		noDir               bool
	}{
		{"unknown key", `{"fileName":"a","name":"b","content":""}`, `unknown field "name"`, false},
		{"no file name", `{"content":"eA=="}`, "an attachment object has no fileName", false},
		{"not base64", `{"fileName":"a.txt","content":"***"}`, `attachment "a.txt": content is not base64`, false},
		{"bad content type", `{"fileName":"a","contentType":"text/","content":""}`, `contentType "text/"`, false},
		{"not an object", `["a.txt"]`, "array of attachment objects", false},
		{"Cloud Storage", "gs://bucket/a.pdf", "Cloud Storage objects are not supported", false},
		{"local files off", "a.txt", "local files are off; start integrationd with --email-attachment-dir", true},
		{"missing file", "nope.txt", "no such file or directory", false},
		{"dot-dot escape", "../secret", "path escapes from parent", false},
		{"absolute path outside", filepath.Join(outside, "secret"), "not in the attachment directory", false},
		{"symlink out of the directory", "link", "path escapes from parent", false},
		{"too big", "big", "attachments exceed 25 MiB in all", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := SMTPConfig{AttachmentDir: dir}
			if c.noDir {
				cfg.AttachmentDir = ""
			}
			_, _, err := runEmail(t, cfg, map[string]string{"To": strArr("$who$"), "AttachmentPath": strArr(c.element)}, emailVars())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestEmailUnicodeRoundTrip sends a long non-ASCII subject, a UTF-8 body
// with long lines and 30 recipients, and reads them back as a mail reader
// would.
func TestEmailUnicodeRoundTrip(t *testing.T) {
	t.Parallel()
	subject := strings.Repeat("Grüße aus Köln, 日本語の件名 🎉 ", 6) + "end"
	body := "Liebe Zoë,\n" + strings.Repeat("ä€😀 long line ", 20) + "\n.\n.leading dot\nÅngström — ok\n"
	var to []string
	for i := range emailMaxRecipients {
		to = append(to, fmt.Sprintf("Recipient Nümber %d <r%d@example.com>", i, i))
	}
	vars := value.NewVars(map[string]value.Kind{"subject": value.String, "body": value.String, "to": value.StringArray})
	_ = vars.Set("subject", value.Str(subject))
	_ = vars.Set("body", value.Str(body))
	_ = vars.Set("to", value.Strings(to))
	m, raw, err := runEmail(t, SMTPConfig{}, map[string]string{
		"To":       strArr("$to$"),
		"Subject":  `{"stringValue":"$subject$"}`,
		"TextBody": `{"stringValue":"$body$"}`,
	}, vars)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 998 {
			t.Errorf("header line of %d octets", len(line))
		}
		for _, r := range line {
			if r > 127 {
				t.Fatalf("non-ASCII header line %q", line)
			}
		}
	}
	if n := strings.Count(string(head), "\r\n "); n < 5 {
		t.Errorf("only %d folded header lines:\n%s", n, head)
	}
	got, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || got != subject {
		t.Errorf("Subject = %q (%v), want %q", got, err, subject)
	}
	addrs, err := m.Header.AddressList("To")
	if err != nil || len(addrs) != emailMaxRecipients || addrs[29].Name != "Recipient Nümber 29" || addrs[29].Address != "r29@example.com" {
		t.Errorf("To = %v (%v), want the 30 recipients", addrs, err)
	}
	if mt, ps, _ := mime.ParseMediaType(m.Header.Get("Content-Type")); mt != "text/plain" || ps["charset"] != "utf-8" {
		t.Errorf("Content-Type = %q", m.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(body, "\n", "\r\n"); string(b) != want {
		t.Errorf("body = %q, want %q", b, want)
	}
}

func TestAttachmentName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ü", 150) + ".pdf" // 304 bytes
	cases := map[string]string{
		"report.pdf":             "report.pdf",
		"../../etc/passwd":       "passwd",
		`C:\Users\ada\a b.txt`:   "a b.txt",
		"a\r\nBcc: x@y.z.txt":    "aBcc: x@y.z.txt",
		"dir/":                   "attachment",
		"..":                     "attachment",
		" \t":                    "attachment",
		long:                     strings.Repeat("ü", 98) + ".pdf",
		strings.Repeat("a", 300): strings.Repeat("a", 200),
	}
	for in, want := range cases {
		if got := attachmentName(in); got != want {
			t.Errorf("attachmentName(%q) = %q, want %q", in, got, want)
		}
	}
}
