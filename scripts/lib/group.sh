# shellcheck shell=bash
#
# Stopping a child that runs as a job in its own process group (the calling
# script sets -m), with everything it started: used by test.sh and bench.sh
# before they remove their PostgreSQL cluster.

# group_stop PID SIGNAL TENTHS: send SIGNAL to PID's process group, wait up
# to TENTHS tenths of a second for it to end, then SIGKILL what is left and
# reap PID. Does nothing when the group is already gone.
group_stop() {
	local pid=$1 signal=$2 tenths=$3 i
	if kill -0 -- "-$pid" 2>/dev/null; then
		kill "-$signal" -- "-$pid" 2>/dev/null || true
		for ((i = 0; i < tenths; i++)); do
			kill -0 -- "-$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}
