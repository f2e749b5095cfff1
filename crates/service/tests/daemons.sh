#!/bin/bash
# Start (or stop) real daemons on one address for portolan-service's tests.
#   daemons.sh start DIR   -> starts what is installed, prints "name port" lines
#   daemons.sh stop DIR    -> kills the PIDs recorded in DIR/pids
# Every daemon runs in the foreground under this script's control with its
# state in DIR, listening on $ADDR (default 127.0.0.1; the benchmark runs
# the script inside a testbed namespace with a 198.18.x.y address). Ports
# are unusual ones by default, so that the tests do not lean on the
# database's port hints; STD_PORTS=1 uses the well-known ones instead.
set -u
cmd=${1:?start|stop}; dir=${2:?dir}
ADDR=${ADDR:-127.0.0.1}
if [ "${STD_PORTS:-0}" = 1 ]; then
  P_SSH=22 P_HTTP=80 P_HTTPS=443 P_FTP=21 P_REDIS=6379 P_MC=11211 P_MYSQL=3306 P_PG=5432 P_DNS=53 P_MQTT=1883
else
  P_SSH=22022 P_HTTP=28080 P_HTTPS=28443 P_FTP=22121 P_REDIS=26379 P_MC=21211 P_MYSQL=23306 P_PG=25432 P_DNS=25353 P_MQTT=21883
fi
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
pids="$dir/pids"

ready() { # wait up to 10 s for a TCP listener on $ADDR:$1
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/"$ADDR"/"$1") 2>/dev/null && return 0; sleep 0.1
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
  launch ssh $P_SSH /usr/sbin/sshd -D -e -f /dev/null -h "$dir/hostkey" \
    -o ListenAddress="$ADDR" -o Port=$P_SSH -o PidFile=none
fi
if [ -x /usr/sbin/nginx ]; then
  mkdir -p "$dir/nginx"
  cat >"$dir/nginx.conf" <<CONF
daemon off; pid $dir/nginx.pid; error_log $dir/nginx.err;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $dir/nginx;
  server { listen $ADDR:$P_HTTP; location / { return 200 "<html><head><title>portolan test</title></head></html>\n"; } }
  server { listen $ADDR:$P_HTTPS ssl; ssl_certificate $dir/tls.crt; ssl_certificate_key $dir/tls.key;
           location / { return 200 "tls\n"; } } }
CONF
  [ -f "$dir/tls.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/tls.key" -out "$dir/tls.crt" -days 2 -subj "/CN=portolan-test/O=Portolan" >/dev/null 2>&1
  launch nginx $P_HTTP /usr/sbin/nginx -c "$dir/nginx.conf" -p "$dir/nginx"
  ready $P_HTTPS && echo "nginx-tls $P_HTTPS"
fi
if [ -x /usr/sbin/vsftpd ]; then
  mkdir -p /var/run/vsftpd/empty
  cat >"$dir/vsftpd.conf" <<CONF
listen=YES
listen_address=$ADDR
listen_port=$P_FTP
anonymous_enable=YES
ftp_username=nobody
anon_root=/var/run/vsftpd/empty
local_enable=NO
background=NO
run_as_launching_user=YES
secure_chroot_dir=/var/run/vsftpd/empty
CONF
  launch vsftpd $P_FTP /usr/sbin/vsftpd "$dir/vsftpd.conf"
fi
if [ -x /usr/bin/redis-server ]; then
  # Not protected mode: it refuses (and hides its version from) clients off
# loopback, which the benchmark's scanner is.
launch redis $P_REDIS /usr/bin/redis-server --bind "$ADDR" --port $P_REDIS --protected-mode no --save '' --dir "$dir" --daemonize no
fi
if [ -x /usr/bin/memcached ]; then
  launch memcached $P_MC /usr/bin/memcached -l "$ADDR" -p $P_MC -U 0 -u root
fi
if [ -x /usr/sbin/mariadbd ]; then
  if [ ! -d "$dir/mysql/mysql" ]; then
    mkdir -p "$dir/mysql"
    mariadb-install-db --no-defaults --user=root --datadir="$dir/mysql" --auth-root-authentication-method=normal >"$dir/mariadb-install.log" 2>&1
  fi
  launch mariadb $P_MYSQL /usr/sbin/mariadbd --no-defaults --user=root --datadir="$dir/mysql" \
    --bind-address="$ADDR" --port=$P_MYSQL --socket="$dir/mysql.sock" --skip-grant-tables --skip-log-bin
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if [ -n "$pgbin" ]; then
  if [ ! -f "$dir/pg/PG_VERSION" ]; then
    mkdir -p "$dir/pg"; chown nobody "$dir/pg" "$dir"
    su nobody -s /bin/sh -c "$pgbin/initdb -D $dir/pg -A trust -U postgres" >"$dir/pg-init.log" 2>&1
    # Trust the benchmark's scanner too (initdb trusts loopback only).
    echo "host all all $ADDR/0 trust" >>"$dir/pg/pg_hba.conf"
  fi
  launch postgres $P_PG su nobody -s /bin/sh -c "exec $pgbin/postgres -D $dir/pg -h $ADDR -p $P_PG -k $dir"
fi
if [ -x /usr/sbin/dnsmasq ]; then
  launch dnsmasq $P_DNS /usr/sbin/dnsmasq -k --conf-file=/dev/null --listen-address="$ADDR" \
    --bind-interfaces --port=$P_DNS --no-resolv --no-hosts --pid-file= --user=root
fi
if [ -x /usr/sbin/mosquitto ]; then
  printf 'listener %s %s\nallow_anonymous true\n' $P_MQTT "$ADDR" >"$dir/mosquitto.conf"
  launch mosquitto $P_MQTT /usr/sbin/mosquitto -c "$dir/mosquitto.conf"
fi
