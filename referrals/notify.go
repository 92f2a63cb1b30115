package referrals

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"passd/db"
)

// notify writes one outbox row per referent with an e-mail on side of the
// case's convention, in the transaction of the change it announces.
func notify(ctx context.Context, tx pgx.Tx, at time.Time, caseID, conventionID int64, side Side, subject string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO referral_outbox (case_id, recipient, subject, created_at)
		SELECT $1, email, $2, $3 FROM convention_referents
		WHERE convention_id = $4 AND side = $5 AND email <> '' AND tenant_id = passd_tenant() ORDER BY id`, caseID, subject, at, conventionID, side)
	if err != nil {
		return fmt.Errorf("referrals: outbox: %w", err)
	}
	return nil
}

// Mailer sends the outbox's e-mails through an SMTP server.
type Mailer struct {
	Addr string // host:port; "": no e-mail is sent, the outbox waits
	From string
	// Username and Password authenticate (PLAIN, which net/smtp sends only
	// over TLS or to localhost); empty: no authentication.
	Username, Password string
	// Link is the address of passd's pages, written in the message.
	Link string
}

// body is every message's text: that something awaits, never who or why.
func (m Mailer) body(to, subject string, now time.Time) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n", m.From, to, mimeWord(subject), now.Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString("Bonjour,\r\n\r\nUn élément vous attend dans passd (convention CCAS – SOS Médecins).\r\n")
	if m.Link != "" {
		fmt.Fprintf(&b, "Connectez-vous pour le consulter : %s\r\n", m.Link)
	} else {
		b.WriteString("Connectez-vous pour le consulter.\r\n")
	}
	b.WriteString("\r\nCe message ne contient volontairement aucune information sur la personne concernée.\r\n")
	return []byte(b.String())
}

// mimeWord encodes a subject with accents (RFC 2047).
func mimeWord(s string) string { return "=?utf-8?q?" + qEncode(s) + "?=" }

func qEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c == ' ':
			b.WriteByte('_')
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '!', c == '*', c == '+', c == '-', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// notifyBatch bounds the e-mails one run sends.
const notifyBatch = 100

// maxAttempts: a message that failed this often stays in the outbox with
// its last error and is not tried again.
const maxAttempts = 10

// NotifyJob sends the outbox's waiting e-mails, each marked sent in the
// transaction that took it (a crash between the send and the commit sends
// it again: at least once, as e-mail goes). Without an SMTP server
// configured, nothing is sent and the rows wait.
func (s *Store) NotifyJob(m Mailer) func(ctx context.Context) (int64, error) {
	return func(ctx context.Context) (int64, error) {
		if m.Addr == "" {
			return 0, nil
		}
		var sent int64
		err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
			sent = 0
			rows, err := tx.Query(ctx, `SELECT id, recipient, subject FROM referral_outbox
				WHERE sent_at IS NULL AND attempts < $1 AND tenant_id = passd_tenant() ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, maxAttempts, notifyBatch)
			if err != nil {
				return fmt.Errorf("referrals: outbox: %w", err)
			}
			type message struct {
				id          int64
				to, subject string
			}
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (message, error) {
				var msg message
				err := r.Scan(&msg.id, &msg.to, &msg.subject)
				return msg, err
			})
			if err != nil {
				return fmt.Errorf("referrals: outbox: %w", err)
			}
			for _, msg := range list {
				now := s.now()
				sendErr := m.send(msg.to, msg.subject, now)
				if sendErr == nil {
					sent++
					_, err = tx.Exec(ctx, `UPDATE referral_outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1 AND tenant_id = passd_tenant()`, msg.id, now)
				} else {
					_, err = tx.Exec(ctx, `UPDATE referral_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1 AND tenant_id = passd_tenant()`, msg.id, truncate(sendErr.Error(), 500))
				}
				if err != nil {
					return fmt.Errorf("referrals: outbox: %w", err)
				}
			}
			return nil
		})
		return sent, err
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// sendTimeout bounds one message's exchange with the server, so that a
// relay that stops answering cannot hold the job (and its lock) for ever.
const sendTimeout = 30 * time.Second

// send delivers one message as smtp.SendMail does (STARTTLS when offered,
// then PLAIN when configured), over a connection with a deadline.
func (m Mailer) send(to, subject string, now time.Time) error {
	if _, err := mail.ParseAddress(to); err != nil {
		return fmt.Errorf("referrals: recipient: %w", err)
	}
	host, _, _ := strings.Cut(m.Addr, ":")
	conn, err := net.DialTimeout("tcp", m.Addr, sendTimeout)
	if err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(sendTimeout)); err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("referrals: send mail: %w", err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("referrals: send mail: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	if _, err := w.Write(m.body(to, subject, now)); err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("referrals: send mail: %w", err)
	}
	// The server has accepted the message: a failed QUIT must not send it
	// again.
	_ = c.Quit()
	return nil
}
