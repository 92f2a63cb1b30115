package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"passd/referrals"
)

// smtpServer is a small SMTP server on loopback that accepts every
// message, for the notify job to talk to as it would to the city's relay.
type smtpServer struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []smtpMessage
}

type smtpMessage struct {
	from string
	to   []string
	data string
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) addr() string { return s.ln.Addr().String() }

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	reply := func(line string) { _, _ = conn.Write([]byte(line + "\r\n")) }
	reply("220 localhost ESMTP test")
	var msg smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250-localhost")
			reply("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			msg = smtpMessage{from: strings.TrimSpace(line[len("MAIL FROM:"):])}
			reply("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			msg.to = append(msg.to, strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>"))
			reply("250 OK")
		case cmd == "DATA":
			reply("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			msg.data = data.String()
			s.mu.Lock()
			s.messages = append(s.messages, msg)
			s.mu.Unlock()
			reply("250 OK queued")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 OK")
		}
	}
}

func (s *smtpServer) received() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.messages...)
}

// TestTheNotifyJobMailsTheReferentsAndNamesNobody: a referral and its
// answer leave outbox rows; the job sends each once through SMTP, to the
// receiving side's referent, saying only that something awaits. Without a
// server it keeps them, counting the attempt.
func TestTheNotifyJobMailsTheReferentsAndNamesNobody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	f := h.newConvention(t, "Évry")
	id := str(t, h.mustDo(t, http.StatusCreated, "POST", "/api/v1/referrals", f.social, referralBody(t, "Quenardel")), "id")
	h.mustDo(t, http.StatusOK, "POST", "/api/v1/referrals/"+id+"/answer", f.doctor, `{"decision": "accept"}`)
	ctx := inConvention(context.Background())

	// The wired job has no SMTP server configured: nothing is sent.
	if run := h.runJob(t, "referral-notify"); fmt.Sprint(run["rows"]) != "0" {
		t.Errorf("the job without SMTP sent %v", run["rows"])
	}
	// A server that is down: the rows wait, with the attempt counted.
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	_ = down.Close()
	if n, err := h.app.referrals.NotifyJob(referrals.Mailer{Addr: downAddr, From: "passd@ville.example"})(ctx); err != nil || n != 0 {
		t.Fatalf("the job with its server down: %d, %v", n, err)
	}
	if n := h.count(t, "referral_outbox", "sent_at IS NULL", "attempts = 1", "last_error IS NOT NULL"); n != 2 {
		t.Errorf("%d rows waiting after a failed attempt, want 2", n)
	}

	srv := startSMTP(t)
	job := h.app.referrals.NotifyJob(referrals.Mailer{Addr: srv.addr(), From: "passd@ville.example", Link: "https://passd.ville.example/"})
	if n, err := job(ctx); err != nil || n != 2 {
		t.Fatalf("the job sent %d, %v; want 2", n, err)
	}
	if n, err := job(ctx); err != nil || n != 0 {
		t.Errorf("a second run sent %d, %v; want nothing", n, err)
	}
	got := srv.received()
	if len(got) != 2 || got[0].to[0] != "sos@évry.example" || got[1].to[0] != "ccas@évry.example" {
		t.Fatalf("messages %+v, want one to the association's referent then one to the CCAS's", got)
	}
	for _, m := range got {
		for _, secret := range []string{"Quenardel", "Odette", "Lilas", "isolation", "Isolement", "1941"} {
			if strings.Contains(m.data, secret) {
				t.Errorf("a message names %q:\n%s", secret, m.data)
			}
		}
		wantContains(t, "a message", m.data, "Un élément vous attend dans passd", "https://passd.ville.example/")
	}
	if n := h.count(t, "referral_outbox", "sent_at IS NOT NULL"); n != 2 {
		t.Errorf("%d rows marked sent, want 2", n)
	}
}
