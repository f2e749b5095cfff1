#!/bin/bash
# Start (or stop) real daemons on 127.0.0.1 for portolan-service's tests.
#   daemons.sh start DIR   -> starts what is installed, prints "name port" lines
#   daemons.sh stop DIR    -> kills the PIDs recorded in DIR/pids
# Only loopback addresses are used; every daemon runs in the foreground
# under this script's control with its state in DIR.
set -u
cmd=${1:?start|stop}; dir=${2:?dir}
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
pids="$dir/pids"

ready() { # wait up to 10 s for a TCP listener on 127.0.0.1:$1
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1
  done; return 1
}
launch() { # name port cmd...
  local name=$1 port=$2; shift 2
  "$@" >"$dir/$name.log" 2>&1 &
  echo $! >>"$pids"
  if ready "$port"; then echo "$name $port"; else echo "# $name failed to start" >&2; fi
}

if [ "$cmd" = stop ]; then
  [ -f "$pids" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$pids"
  sleep 0.3
  [ -f "$pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done <"$pids"
  rm -f "$pids"; exit 0
fi

if [ -x /usr/sbin/sshd ]; then
  mkdir -p /run/sshd
  [ -f "$dir/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey"
  launch ssh 22022 /usr/sbin/sshd -D -e -f /dev/null -h "$dir/hostkey" \
    -o ListenAddress=127.0.0.1 -o Port=22022 -o PidFile=none
fi
if [ -x /usr/sbin/nginx ]; then
  mkdir -p "$dir/nginx"
  cat >"$dir/nginx.conf" <<CONF
daemon off; pid $dir/nginx.pid; error_log $dir/nginx.err;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $dir/nginx;
  server { listen 127.0.0.1:28080; location / { return 200 "<html><head><title>portolan test</title></head></html>\n"; } }
  server { listen 127.0.0.1:28443 ssl; ssl_certificate $dir/tls.crt; ssl_certificate_key $dir/tls.key;
           location / { return 200 "tls\n"; } } }
CONF
  [ -f "$dir/tls.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/tls.key" -out "$dir/tls.crt" -days 2 -subj "/CN=portolan-test/O=Portolan" >/dev/null 2>&1
  launch nginx 28080 /usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir/nginx"
  ready 28443 && echo "nginx-tls 28443"
fi
if [ -x /usr/sbin/vsftpd ]; then
  mkdir -p /var/run/vsftpd/empty
  cat >"$dir/vsftpd.conf" <<CONF
listen=YES
listen_address=127.0.0.1
listen_port=22121
anonymous_enable=YES
ftp_username=nobody
anon_root=/var/run/vsftpd/empty
local_enable=NO
background=NO
run_as_launching_user=YES
secure_chroot_dir=/var/run/vsftpd/empty
CONF
  launch vsftpd 22121 /usr/sbin/vsftpd "$dir/vsftpd.conf"
fi
if [ -x /usr/bin/redis-server ]; then
  launch redis 26379 /usr/bin/redis-server --bind 127.0.0.1 --port 26379 --save '' --dir "$dir" --daemonize no
fi
if [ -x /usr/bin/memcached ]; then
  launch memcached 21211 /usr/bin/memcached -l 127.0.0.1 -p 21211 -U 0 -u root
fi
if [ -x /usr/sbin/mariadbd ]; then
  if [ ! -d "$dir/mysql/mysql" ]; then
    mkdir -p "$dir/mysql"
    mariadb-install-db --no-defaults --user=root --datadir="$dir/mysql" --auth-root-authentication-method=normal >"$dir/mariadb-install.log" 2>&1
  fi
  launch mariadb 23306 /usr/sbin/mariadbd --no-defaults --user=root --datadir="$dir/mysql" \
    --bind-address=127.0.0.1 --port=23306 --socket="$dir/mysql.sock" --skip-grant-tables --skip-log-bin
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if [ -n "$pgbin" ]; then
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    mkdir -p "$dir/pg"; chown nobody "$dir/pg" "$dir"
    su nobody -s /bin/sh -c "$pgbin/initdb -D $dir/pg -A trust -U postgres" >"$dir/pg-init.log" 2>&1
  fi
  launch postgres 25432 su nobody -s /bin/sh -c "exec $pgbin/postgres -D $dir/pg -h 127.0.0.1 -p 25432 -k $dir"
fi
if [ -x /usr/sbin/dnsmasq ]; then
  launch dnsmasq 25353 /usr/sbin/dnsmasq -k --conf-file=/dev/null --listen-address=127.0.0.1 \
    --bind-interfaces --port=25353 --no-resolv --no-hosts --pid-file= --user=root
fi
if [ -x /usr/sbin/mosquitto ]; then
  printf 'listener 21883 127.0.0.1\nallow_anonymous true\n' >"$dir/mosquitto.conf"
  launch mosquitto 21883 /usr/sbin/mosquitto -c "$dir/mosquitto.conf"
fi
