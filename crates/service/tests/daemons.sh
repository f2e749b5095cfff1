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
  P_SNMP=161 P_LDAP=389 P_RSYNC=873 P_SQUID=3128 P_TINY=8888 P_SMB=445 P_TELNET=23 P_ETCD=2379 P_RDP=3389
  P_IRC=6667 P_BEAN=11300 P_IMAP=143 P_POP=110 P_SMTP=25 P_IPP=631 P_TFTP=69 P_GEAR=4730 P_MUNIN=4949
  P_APACHE=8080 P_LIGHTTPD=8000 P_VARNISH=6081 P_PRIVOXY=8118 P_HAPROXY=8404 P_SVN=3690
  P_UPSD=3493 P_STUN=3478 P_ZABBIX=10050 P_AMQP=5672 P_NATS=4222 P_PGB=6432 P_ICECAST=8001 P_NSD=5354
else
  P_SSH=22022 P_HTTP=28080 P_HTTPS=28443 P_FTP=22121 P_REDIS=26379 P_MC=21211 P_MYSQL=23306 P_PG=25432 P_DNS=25353 P_MQTT=21883
  P_SNMP=21161 P_LDAP=20389 P_RSYNC=20873 P_SQUID=23128 P_TINY=28888 P_SMB=20445 P_TELNET=20023 P_ETCD=22379 P_RDP=23389
  P_IRC=26667 P_BEAN=21300 P_IMAP=20143 P_POP=20110 P_SMTP=20025 P_IPP=20631 P_TFTP=20069 P_GEAR=24730 P_MUNIN=24949
  P_APACHE=20080 P_LIGHTTPD=20081 P_VARNISH=26081 P_PRIVOXY=28118 P_HAPROXY=28404 P_SVN=23690
  P_UPSD=23493 P_STUN=23478 P_ZABBIX=20050 P_AMQP=25673 P_NATS=24222 P_PGB=26432 P_ICECAST=28001 P_NSD=25356
fi
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
pids="$dir/pids"

ready() { # wait up to $WAIT_S s (default 10) for a TCP listener on $ADDR:$1
  for _ in $(seq $((${WAIT_S:-10} * 10))); do
    (exec 3<>/dev/tcp/"$ADDR"/"$1") 2>/dev/null && return 0; sleep 0.1
  done; return 1
}
ready_udp() { # wait up to 10 s for a UDP socket bound to $ADDR:$1 (or any address)
  for _ in $(seq 100); do
    ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0; sleep 0.1
  done; return 1
}
launch() { # name port cmd...
  local name=$1 port=$2; shift 2
  # Its own session: a daemon (or su, or rabbitmq-server's script) that
  # signals its process group on exit must not reach the test.
  setsid "$@" >"$dir/$name.log" 2>&1 &
  echo $! >>"$pids"
  if ready "$port"; then echo "$name $port"; else echo "# $name failed to start" >&2; fi
}
launch_udp() { # name port cmd...: a UDP-only daemon
  local name=$1 port=$2; shift 2
  # Its own session: a daemon (or su, or rabbitmq-server's script) that
  # signals its process group on exit must not reach the test.
  setsid "$@" >"$dir/$name.log" 2>&1 &
  echo $! >>"$pids"
  if ready_udp "$port"; then echo "$name $port"; else echo "# $name failed to start" >&2; fi
}

tree() { # a PID and its descendants
  echo "$1"; local c; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
if [ "$cmd" = stop ]; then
  all=$([ -f "$pids" ] && while read -r p; do tree "$p"; done <"$pids")
  for p in $all; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in $all; do kill -9 "$p" 2>/dev/null; done
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

# Ports with no well-known clash in either mode.
P_BIND=25354 P_UNBOUND=25355 P_NODEEXP=29100 P_EPMD=24369
if [ -x /usr/sbin/snmpd ]; then
  printf 'rocommunity public default\nsysLocation portolan test\nsysContact test@portolan.invalid\n' >"$dir/snmpd.conf"
  launch_udp snmpd $P_SNMP /usr/sbin/snmpd -f -Lo -C -c "$dir/snmpd.conf" -p "$dir/snmpd.pid" "udp:$ADDR:$P_SNMP"
fi
if [ -x /usr/sbin/slapd ]; then
  mkdir -p "$dir/ldap"
  cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
pidfile $dir/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=portolan,dc=test"
directory $dir/ldap
CONF
  launch slapd $P_LDAP /usr/sbin/slapd -d 0 -f "$dir/slapd.conf" -h "ldap://$ADDR:$P_LDAP/"
fi
if [ -x /usr/bin/rsync ]; then
  printf 'pid file = %s/rsyncd.pid\nuse chroot = no\n[pub]\n  path = %s\n  read only = yes\n' "$dir" "$dir" >"$dir/rsyncd.conf"
  launch rsync $P_RSYNC /usr/bin/rsync --daemon --no-detach --address="$ADDR" --port=$P_RSYNC --config="$dir/rsyncd.conf"
fi
if [ -x /usr/sbin/squid ]; then
  mkdir -p "$dir/squid"; chown proxy "$dir/squid" 2>/dev/null
  cat >"$dir/squid.conf" <<CONF
http_port $ADDR:$P_SQUID
http_access allow all
pid_filename $dir/squid/squid.pid
cache_log $dir/squid/cache.log
access_log none
coredump_dir $dir/squid
cache deny all
shutdown_lifetime 0 seconds
CONF
  launch squid $P_SQUID /usr/sbin/squid -N -f "$dir/squid.conf"
fi
if [ -x /usr/bin/tinyproxy ]; then
  printf 'Port %s\nListen %s\nTimeout 60\nMaxClients 20\nAllow 0.0.0.0/0\n' $P_TINY "$ADDR" >"$dir/tinyproxy.conf"
  launch tinyproxy $P_TINY /usr/bin/tinyproxy -d -c "$dir/tinyproxy.conf"
fi
if [ -x /usr/sbin/smbd ]; then
  mkdir -p "$dir/samba/private" "$dir/samba/lock" "$dir/samba/state" "$dir/samba/cache"
  cat >"$dir/smb.conf" <<CONF
[global]
  workgroup = PORTOLAN
  netbios name = PORTOLAN-TEST
  interfaces = $ADDR
  bind interfaces only = yes
  smb ports = $P_SMB
  pid directory = $dir/samba
  lock directory = $dir/samba/lock
  state directory = $dir/samba/state
  cache directory = $dir/samba/cache
  private dir = $dir/samba/private
  log file = $dir/samba/log
  disable netbios = yes
CONF
  launch samba $P_SMB /usr/sbin/smbd -F --no-process-group -s "$dir/smb.conf"
fi
if [ -x /usr/sbin/telnetd ] && [ -x /usr/sbin/inetutils-inetd ]; then
  echo "$ADDR:$P_TELNET stream tcp nowait root /usr/sbin/telnetd telnetd" >"$dir/inetd.conf"
  launch telnetd $P_TELNET /usr/sbin/inetutils-inetd -d "$dir/inetd.conf"
fi
if [ -x /usr/bin/etcd ]; then
  launch etcd $P_ETCD /usr/bin/etcd --data-dir "$dir/etcd" --name portolan \
    --listen-client-urls "http://$ADDR:$P_ETCD" --advertise-client-urls "http://$ADDR:$P_ETCD" \
    --listen-peer-urls "http://$ADDR:$((P_ETCD + 1))" --initial-advertise-peer-urls "http://$ADDR:$((P_ETCD + 1))" \
    --initial-cluster "portolan=http://$ADDR:$((P_ETCD + 1))"
fi
if [ -x /usr/sbin/xrdp ]; then
  sed -e "s/^port=.*/port=tcp:\/\/$ADDR:$P_RDP/" -e "s/^fork=.*/fork=true/" /etc/xrdp/xrdp.ini >"$dir/xrdp.ini"
  launch xrdp $P_RDP /usr/sbin/xrdp --nodaemon --config "$dir/xrdp.ini"
fi
if [ -x /usr/sbin/ngircd ]; then
  cat >"$dir/ngircd.conf" <<CONF
[Global]
  Name = irc.portolan.test
  Info = portolan test
  Listen = $ADDR
  Ports = $P_IRC
  PidFile = $dir/ngircd.pid
  ServerUID = nobody
  ServerGID = nogroup
[Limits]
  # The default, 5 connections per address, is fewer than the probes -sV
  # has in flight; a refused prober still names ngIRCd (soft) from the
  # refusal, and retries IrcRegister once, but not always in time.
  MaxConnectionsIP = 0
[Options]
  DNS = no
  Ident = no
  PAM = no
CONF
  launch ngircd $P_IRC /usr/sbin/ngircd -n -f "$dir/ngircd.conf"
fi
if [ -x /usr/bin/beanstalkd ]; then
  launch beanstalkd $P_BEAN /usr/bin/beanstalkd -l "$ADDR" -p $P_BEAN
fi
if [ -x /usr/sbin/named ]; then
  mkdir -p "$dir/bind"; chown bind "$dir/bind" 2>/dev/null
  printf 'options { directory "%s/bind"; listen-on port %s { %s; }; listen-on-v6 { none; }; pid-file none; recursion no; };\n' \
    "$dir" $P_BIND "$ADDR" >"$dir/named.conf"
  launch bind $P_BIND /usr/sbin/named -g -u bind -c "$dir/named.conf"
fi
if [ -x /usr/sbin/unbound ]; then
  cat >"$dir/unbound.conf" <<CONF
server:
  interface: $ADDR@$P_UNBOUND
  do-daemonize: no
  chroot: ""
  username: ""
  pidfile: ""
  use-syslog: no
  do-ip6: no
  access-control: 0.0.0.0/0 allow
remote-control:
  control-enable: no
CONF
  launch unbound $P_UNBOUND /usr/sbin/unbound -d -c "$dir/unbound.conf"
fi
if [ -x /usr/sbin/nsd ]; then
  mkdir -p "$dir/nsd"
  cat >"$dir/nsd.conf" <<CONF
server:
  ip-address: $ADDR@$P_NSD
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "$dir/nsd"
  zonelistfile: "$dir/nsd/zone.list"
  database: ""
  pidfile: ""
  xfrdfile: "$dir/nsd/xfrd.state"
  logfile: "$dir/nsd.log"
remote-control:
  control-enable: no
CONF
  launch nsd $P_NSD /usr/sbin/nsd -d -c "$dir/nsd.conf"
fi
if [ -x /usr/sbin/dovecot ]; then
  mkdir -p "$dir/dovecot"
  cat >"$dir/dovecot.conf" <<CONF
protocols = imap pop3
base_dir = $dir/dovecot
state_dir = $dir/dovecot
log_path = $dir/dovecot.log
ssl = no
listen = $ADDR
default_internal_user = nobody
default_login_user = nobody
passdb {
  driver = static
  args = password=portolan-none
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/dovecot/home
}
service imap-login {
  inet_listener imap {
    port = $P_IMAP
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $P_POP
  }
}
CONF
  launch dovecot $P_IMAP /usr/sbin/dovecot -F -c "$dir/dovecot.conf"
  ready $P_POP && echo "dovecot-pop3 $P_POP"
fi
if [ -x /usr/sbin/postfix ]; then
  mkdir -p "$dir/postfix"
  cp /etc/postfix/master.cf "$dir/postfix/master.cf"
  sed -i "s/^smtp \\( *inet\\)/$ADDR:$P_SMTP\\1/" "$dir/postfix/master.cf"
  cat >"$dir/postfix/main.cf" <<CONF
compatibility_level = 3.6
myhostname = mail.portolan.test
inet_interfaces = $ADDR
inet_protocols = ipv4
data_directory = $dir/postfix/data
maillog_file = /dev/stdout
mynetworks = 127.0.0.0/8
CONF
  mkdir -p "$dir/postfix/data"; chown postfix "$dir/postfix/data" 2>/dev/null
  launch postfix $P_SMTP /usr/sbin/postfix -c "$dir/postfix" start-fg
fi
if [ -x /usr/sbin/cupsd ]; then
  mkdir -p "$dir/cups/cache" "$dir/cups/spool" "$dir/cups/log" "$dir/cups/state"
  printf 'Listen %s:%s\nLogLevel warn\n<Location />\n  Order allow,deny\n  Allow all\n</Location>\n' "$ADDR" $P_IPP >"$dir/cups/cupsd.conf"
  cat >"$dir/cups/cups-files.conf" <<CONF
CacheDir $dir/cups/cache
StateDir $dir/cups/state
RequestRoot $dir/cups/spool
ServerRoot $dir/cups
ErrorLog $dir/cups/log/error_log
AccessLog $dir/cups/log/access_log
PageLog $dir/cups/log/page_log
CONF
  launch cups $P_IPP /usr/sbin/cupsd -f -c "$dir/cups/cupsd.conf" -s "$dir/cups/cups-files.conf"
fi
if [ -x /usr/sbin/apache2 ]; then
  mkdir -p "$dir/apache"
  cat >"$dir/apache.conf" <<CONF
ServerRoot /etc/apache2
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Listen $ADDR:$P_APACHE
ServerName portolan.test
PidFile $dir/apache/apache.pid
Mutex file:$dir/apache
ErrorLog $dir/apache/error.log
DocumentRoot $dir/apache
User www-data
Group www-data
CONF
  launch apache $P_APACHE /usr/sbin/apache2 -DFOREGROUND -f "$dir/apache.conf"
fi
if [ -x /usr/sbin/lighttpd ]; then
  mkdir -p "$dir/lighttpd"
  printf 'server.port = %s\nserver.bind = "%s"\nserver.document-root = "%s/lighttpd"\nserver.errorlog = "%s/lighttpd.err"\n' \
    $P_LIGHTTPD "$ADDR" "$dir" "$dir" >"$dir/lighttpd.conf"
  launch lighttpd $P_LIGHTTPD /usr/sbin/lighttpd -D -f "$dir/lighttpd.conf"
fi
if [ -x /usr/sbin/varnishd ]; then
  launch varnish $P_VARNISH /usr/sbin/varnishd -F -a "$ADDR:$P_VARNISH" -b 127.0.0.1:9 -n "$dir/varnish" -s malloc,16m
fi
if [ -x /usr/sbin/privoxy ]; then
  printf 'listen-address %s:%s\nconfdir /etc/privoxy\n' "$ADDR" $P_PRIVOXY >"$dir/privoxy.conf"
  launch privoxy $P_PRIVOXY /usr/sbin/privoxy --no-daemon "$dir/privoxy.conf"
fi
if [ -x /usr/sbin/haproxy ]; then
  printf 'defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend web\n  bind %s:%s\n' "$ADDR" $P_HAPROXY >"$dir/haproxy.cfg"
  launch haproxy $P_HAPROXY /usr/sbin/haproxy -db -f "$dir/haproxy.cfg"
fi
if [ -x /usr/bin/svnserve ]; then
  launch svnserve $P_SVN /usr/bin/svnserve -d --foreground --listen-host "$ADDR" --listen-port $P_SVN -r "$dir"
fi
if [ -x /lib/nut/upsd ]; then
  # The daemon itself (/usr/sbin/upsd is a wrapper that reads /etc/nut);
  # it needs one UPS defined, whose driver need not run.
  mkdir -p "$dir/nut"; chmod 0700 "$dir/nut"; : >"$dir/nut/upsd.users"
  printf '[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n' >"$dir/nut/ups.conf"
  printf 'LISTEN %s %s\n' "$ADDR" $P_UPSD >"$dir/nut/upsd.conf"
  launch upsd $P_UPSD env NUT_CONFPATH="$dir/nut" NUT_STATEPATH="$dir/nut" /lib/nut/upsd -F -u root
fi
if [ -x /usr/bin/turnserver ]; then
  # With its admin CLI (svb2), which names coturn and its version.
  P_TURNCLI=$([ "${STD_PORTS:-0}" = 1 ] && echo 5766 || echo 25766)
  launch coturn $P_STUN /usr/bin/turnserver -L "$ADDR" -p $P_STUN --no-tls --no-dtls -n \
    --cli-ip "$ADDR" --cli-port $P_TURNCLI --cli-password portolan \
    --log-file stdout --pidfile "$dir/turnserver.pid" --simple-log
  ready $P_TURNCLI && echo "coturn-cli $P_TURNCLI"
fi
if [ -x /usr/sbin/zabbix_agentd ]; then
  printf 'Server=0.0.0.0/0\nListenIP=%s\nListenPort=%s\nPidFile=%s/zabbix.pid\nLogType=console\nAllowRoot=1\n' \
    "$ADDR" $P_ZABBIX "$dir" >"$dir/zabbix.conf"
  launch zabbix $P_ZABBIX /usr/sbin/zabbix_agentd -f -c "$dir/zabbix.conf"
fi
if [ -x /usr/sbin/nats-server ]; then
  launch nats $P_NATS /usr/sbin/nats-server -a "$ADDR" -p $P_NATS
fi
if [ -x /usr/sbin/pgbouncer ]; then
  mkdir -p "$dir/pgb"; chown nobody "$dir/pgb"
  printf '[databases]\n[pgbouncer]\nlisten_addr = %s\nlisten_port = %s\nauth_type = trust\nauth_file = %s/pgb/users\nunix_socket_dir =\n' \
    "$ADDR" $P_PGB "$dir" >"$dir/pgb/pgbouncer.ini"
  : >"$dir/pgb/users"; chown nobody "$dir"/pgb/*
  launch pgbouncer $P_PGB su nobody -s /bin/sh -c "exec /usr/sbin/pgbouncer $dir/pgb/pgbouncer.ini"
fi
if [ -x /usr/bin/gearmand ]; then
  launch gearmand $P_GEAR /usr/bin/gearmand -L "$ADDR" -p $P_GEAR --log-file=stderr -u nobody
elif [ -x /usr/sbin/gearmand ]; then
  launch gearmand $P_GEAR /usr/sbin/gearmand -L "$ADDR" -p $P_GEAR --log-file=stderr -u nobody
fi
if [ -x /usr/bin/prometheus-node-exporter ]; then
  launch node-exporter $P_NODEEXP /usr/bin/prometheus-node-exporter --web.listen-address="$ADDR:$P_NODEEXP"
fi
if [ -x /usr/sbin/munin-node ]; then
  printf 'log_level 1\nlog_file %s/munin.log\npid_file %s/munin.pid\nbackground 0\nsetsid 0\nuser root\ngroup root\nhost_name munin.portolan.test\nallow ^.*$\nhost %s\nport %s\n' \
    "$dir" "$dir" "$ADDR" $P_MUNIN >"$dir/munin-node.conf"
  launch munin $P_MUNIN /usr/sbin/munin-node --config "$dir/munin-node.conf" --foreground
fi
if [ -x /usr/bin/icecast2 ]; then
  mkdir -p "$dir/icecast"; chown nobody "$dir/icecast"
  sed -e "s|<port>8000</port>|<port>$P_ICECAST</port><bind-address>$ADDR</bind-address>|" \
      -e "s|<logdir>[^<]*</logdir>|<logdir>$dir/icecast</logdir>|" /etc/icecast2/icecast.xml >"$dir/icecast/icecast.xml"
  chown nobody "$dir/icecast/icecast.xml"
  launch icecast $P_ICECAST su nobody -s /bin/sh -c "exec /usr/bin/icecast2 -c $dir/icecast/icecast.xml"
fi
if [ -x /usr/lib/frr/zebra ]; then
  P_ZEBRA=$([ "${STD_PORTS:-0}" = 1 ] && echo 2601 || echo 22601)
  mkdir -p "$dir/frr"; printf 'hostname portolan\npassword portolan\n' >"$dir/frr/zebra.conf"
  chown -R frr:frr "$dir/frr" 2>/dev/null
  launch zebra $P_ZEBRA /usr/lib/frr/zebra -f "$dir/frr/zebra.conf" -i "$dir/frr/zebra.pid" \
    -z "$dir/frr/zserv.api" --vty_socket "$dir/frr" -A "$ADDR" -P $P_ZEBRA -u frr -g frr
fi
# Services found by a port-hinted probe only (rarity 8) run on their
# well-known ports in both modes.
if [ -x /usr/sbin/tor ]; then
  # DisableNetwork: tor makes no connection anywhere; its control port answers
  # (with cookie authentication, which tor requires on a non-loopback address).
  mkdir -p "$dir/tor"; chown debian-tor "$dir/tor" 2>/dev/null; chmod 700 "$dir/tor"
  launch tor-control 9051 /usr/sbin/tor --ControlPort "$ADDR:9051" --SocksPort 0 \
    --DataDirectory "$dir/tor" --DisableNetwork 1 --CookieAuthentication 1 \
    --User debian-tor --Log "notice stderr"
fi
if [ -x /usr/bin/c-icap ]; then
  mkdir -p "$dir/icap"; chown c-icap "$dir/icap" 2>/dev/null
  sed -e "s|^Port .*|Port $ADDR:1344|" -e "s|^PidFile .*|PidFile $dir/icap/pid|" \
      -e "s|^CommandsSocket .*|CommandsSocket $dir/icap/cmd|" -e "s|^ServerLog .*|ServerLog $dir/icap/server.log|" \
      -e "s|^AccessLog .*|AccessLog $dir/icap/access.log|" /etc/c-icap/c-icap.conf >"$dir/icap/c-icap.conf"
  launch c-icap 1344 /usr/bin/c-icap -N -f "$dir/icap/c-icap.conf"
fi
if [ -x /usr/bin/storescp ]; then
  mkdir -p "$dir/dicom"
  launch storescp 11112 sh -c "cd '$dir/dicom' && exec /usr/bin/storescp --fork 11112"
fi
if [ -x /usr/sbin/LCDd ]; then
  printf '[server]\nDriver=text\nBind=%s\nPort=13666\nReportToSyslog=no\nForeground=yes\nDriverPath=/usr/lib/x86_64-linux-gnu/lcdproc/\n[text]\nSize=20x4\n' \
    "$ADDR" >"$dir/lcdd.conf"
  launch lcdd 13666 /usr/sbin/LCDd -f -c "$dir/lcdd.conf"
fi
if [ -x /usr/sbin/rabbitmq-server ] && [ "${RABBITMQ:-1}" = 1 ]; then
  mkdir -p "$dir/rabbitmq"; chown rabbitmq "$dir/rabbitmq" 2>/dev/null
  printf 'listeners.tcp.1 = %s:%s\ndistribution.listener.interface = %s\n' "$ADDR" $P_AMQP "$ADDR" >"$dir/rabbitmq/rabbitmq.conf"
  WAIT_S=40 launch rabbitmq $P_AMQP env RABBITMQ_MNESIA_BASE="$dir/rabbitmq" RABBITMQ_LOG_BASE="$dir/rabbitmq" \
    RABBITMQ_CONFIG_FILE="$dir/rabbitmq/rabbitmq.conf" RABBITMQ_NODENAME="portolan@localhost" \
    RABBITMQ_DIST_PORT=$((P_AMQP + 1)) ERL_EPMD_PORT=$P_EPMD ERL_EPMD_ADDRESS="$ADDR" HOME="$dir/rabbitmq" \
    /usr/sbin/rabbitmq-server
  # epmd detaches from rabbitmq-server: record its PID to stop it too.
  if ready $P_EPMD; then
    echo "epmd $P_EPMD"
    ss -Hltnp "sport = :$P_EPMD" | grep -o 'pid=[0-9]*' | cut -d= -f2 >>"$pids"
  fi
fi

# sva
# DNS servers on ports of their own in both modes (53 is dnsmasq's).
P_PDNS=25357 P_PDNSREC=25358 P_KNOT=25359 P_GDNSD=25360
if [ "${STD_PORTS:-0}" = 1 ]; then
  P_ACNG=3142 P_WEBFS=8002 P_MINIHTTPD=8003 P_SENTINEL=26379 P_UNISON=1234
else
  P_ACNG=23142 P_WEBFS=28002 P_MINIHTTPD=28003 P_SENTINEL=26390 P_UNISON=21234
fi
if [ -x /usr/sbin/pdns_server ] && [ -f /usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so ]; then
  mkdir -p "$dir/pdns"; printf 'launch=bind\nbind-config=/dev/null\n' >"$dir/pdns/pdns.conf"
  launch pdns $P_PDNS /usr/sbin/pdns_server --config-dir="$dir/pdns" --daemon=no --guardian=no \
    --local-address="$ADDR" --local-port=$P_PDNS --socket-dir="$dir/pdns"
fi
if [ -x /usr/sbin/pdns_recursor ]; then
  # Everything forwarded to a closed port, no security poll: it sends
  # nothing beyond the test's own address.
  mkdir -p "$dir/pdns-recursor"; : >"$dir/pdns-recursor/recursor.conf"
  launch pdns-recursor $P_PDNSREC /usr/sbin/pdns_recursor --config-dir="$dir/pdns-recursor" --daemon=no \
    --local-address="$ADDR" --local-port=$P_PDNSREC --socket-dir="$dir/pdns-recursor" \
    --security-poll-suffix= --forward-zones=.=127.0.0.1:9 --allow-from=0.0.0.0/0
fi
if [ -x /usr/sbin/knotd ]; then
  mkdir -p "$dir/knot"
  printf 'server:\n  listen: %s@%s\n  rundir: %s/knot\n  user: root\ndatabase:\n  storage: %s/knot\n' \
    "$ADDR" $P_KNOT "$dir" "$dir" >"$dir/knot/knot.conf"
  launch knot $P_KNOT /usr/sbin/knotd -c "$dir/knot/knot.conf"
fi
if [ -x /usr/sbin/gdnsd ]; then
  mkdir -p "$dir/gdnsd/zones" "$dir/gdnsd/run" "$dir/gdnsd/state"
  printf 'options => { listen => [ %s:%s ] }\n' "$ADDR" $P_GDNSD >"$dir/gdnsd/config"
  launch gdnsd $P_GDNSD env RUNTIME_DIRECTORY="$dir/gdnsd/run" STATE_DIRECTORY="$dir/gdnsd/state" \
    /usr/sbin/gdnsd -c "$dir/gdnsd" -R -f start
fi
# YADIFA (2.6.4) is not here: it resets the prober's parallel connections
# from one client and reads as tcpwrapped after 6-9 s (its replies, recorded
# one at a time, are tests in rules.rs).
if [ -x /usr/sbin/apt-cacher-ng ]; then
  mkdir -p "$dir/acng/cache" "$dir/acng/log"
  launch apt-cacher-ng $P_ACNG /usr/sbin/apt-cacher-ng -c /etc/apt-cacher-ng ForeGround=1 Port=$P_ACNG \
    BindAddress="$ADDR" CacheDir="$dir/acng/cache" LogDir="$dir/acng/log" PidFile="$dir/acng/pid" SocketPath="$dir/acng/sock"
fi
if [ -x /usr/bin/webfsd ]; then
  mkdir -p "$dir/www"; echo portolan >"$dir/www/index.html"
  launch webfs $P_WEBFS /usr/bin/webfsd -F -i "$ADDR" -p $P_WEBFS -r "$dir/www" -u nobody
fi
if [ -x /usr/sbin/mini_httpd ]; then
  mkdir -p "$dir/www"; echo portolan >"$dir/www/index.html"
  launch mini_httpd $P_MINIHTTPD /usr/sbin/mini_httpd -D -h "$ADDR" -p $P_MINIHTTPD -d "$dir/www" -u nobody
fi
if [ -x /usr/bin/redis-sentinel ]; then
  # Sentinel needs a writable configuration and a master to watch (none runs there).
  printf 'sentinel monitor portolan 127.0.0.1 9 2\n' >"$dir/sentinel.conf"
  launch redis-sentinel $P_SENTINEL /usr/bin/redis-sentinel "$dir/sentinel.conf" --bind "$ADDR" --port $P_SENTINEL \
    --protected-mode no --daemonize no
fi
# Found by port-hinted probes only (rarity 8): well-known ports in both modes.
if [ -x /usr/sbin/krb5kdc ] && [ -x /usr/sbin/kdb5_util ]; then
  mkdir -p "$dir/krb5"
  printf '[kdcdefaults]\n kdc_listen = %s:88\n kdc_tcp_listen = %s:88\n[realms]\n PORTOLAN.TEST = {\n  database_name = %s/krb5/principal\n  key_stash_file = %s/krb5/stash\n }\n' \
    "$ADDR" "$ADDR" "$dir" "$dir" >"$dir/krb5/kdc.conf"
  printf '[libdefaults]\n default_realm = PORTOLAN.TEST\n' >"$dir/krb5/krb5.conf"
  [ -f "$dir/krb5/principal" ] || KRB5_CONFIG="$dir/krb5/krb5.conf" KRB5_KDC_PROFILE="$dir/krb5/kdc.conf" \
    /usr/sbin/kdb5_util create -s -r PORTOLAN.TEST -P portolan-test-master >"$dir/krb5/create.log" 2>&1
  launch krb5kdc 88 env KRB5_CONFIG="$dir/krb5/krb5.conf" KRB5_KDC_PROFILE="$dir/krb5/kdc.conf" \
    /usr/sbin/krb5kdc -n -r PORTOLAN.TEST
fi
if [ -x /usr/sbin/kadmind ] && [ -f "$dir/krb5/principal" ]; then
  # The KDC's database; kadmin (RPC, 749) and kpasswd (464) on one daemon.
  : >"$dir/krb5/kadm5.acl"
  sed -e "s|^ PORTOLAN.TEST = {|&\\n  acl_file = $dir/krb5/kadm5.acl\\n  kadmind_listen = $ADDR:749\\n  kpasswd_listen = $ADDR:464|" \
    "$dir/krb5/kdc.conf" >"$dir/krb5/kadmind.conf"
  launch kadmind 749 env KRB5_CONFIG="$dir/krb5/krb5.conf" KRB5_KDC_PROFILE="$dir/krb5/kadmind.conf" \
    /usr/sbin/kadmind -nofork -r PORTOLAN.TEST
  ready 464 && echo "kpasswd 464"
fi
fbroot=/usr/lib/x86_64-linux-gnu/firebird/3.0
if [ -x /usr/sbin/firebird ] && [ -d $fbroot ]; then
  # Its own root: the package's files, with a firebird.conf that binds $ADDR.
  mkdir -p "$dir/firebird"
  for f in "$fbroot"/*; do [ "${f##*/}" = firebird.conf ] || ln -sfn "$f" "$dir/firebird/"; done
  printf 'RemoteBindAddress = %s\nRemoteServicePort = 3050\n' "$ADDR" >"$dir/firebird/firebird.conf"
  launch firebird 3050 env FIREBIRD="$dir/firebird" /usr/sbin/firebird
fi
if [ -x /usr/bin/uhub ]; then
  printf 'server_bind_addr=%s\nserver_port=1511\n' "$ADDR" >"$dir/uhub.conf"
  launch uhub 1511 /usr/bin/uhub -c "$dir/uhub.conf"
fi
if [ -x /usr/bin/unison ]; then
  mkdir -p "$dir/unison"
  launch unison $P_UNISON env HOME="$dir/unison" /usr/bin/unison -socket $P_UNISON -listen "$ADDR"
fi

# svb2: chat, remote access, monitoring, VPN, network and industrial
# daemons. Ports with no well-known clash; those found only by a
# port-hinted probe run on their well-known ports in both modes.
P_DROPBEAR=22023 P_TINYSSH=22024 P_INSP=26668 P_BITLBEE=26670
P_GMOND=28649 P_GPSD=22947 P_MONIT=22812
if [ "${STD_PORTS:-0}" = 1 ]; then
  P_INSP=6668 P_BITLBEE=6669 P_GMOND=8649 P_GPSD=2947 P_MONIT=2812
fi
# Kamailio and the X server say nothing to the probes sent before theirs,
# which then wait out their time: on their hinted ports in both modes.
P_SIP=5060 P_X11=6007
if [ -x /usr/sbin/dropbear ]; then
  [ -f "$dir/dropbear.key" ] || dropbearkey -t ed25519 -f "$dir/dropbear.key" >/dev/null 2>&1
  launch dropbear $P_DROPBEAR /usr/sbin/dropbear -F -E -s -p "$ADDR:$P_DROPBEAR" -r "$dir/dropbear.key" -P "$dir/dropbear.pid"
fi
if [ -x /usr/sbin/tinysshd ] && [ -x /usr/sbin/inetutils-inetd ]; then
  [ -d "$dir/tinyssh" ] || /usr/sbin/tinysshd-makekey "$dir/tinyssh" >/dev/null 2>&1
  echo "$ADDR:$P_TINYSSH stream tcp nowait root /usr/sbin/tinysshd tinysshd $dir/tinyssh" >"$dir/inetd-tinyssh.conf"
  launch tinysshd $P_TINYSSH /usr/sbin/inetutils-inetd -d "$dir/inetd-tinyssh.conf"
fi
if [ -x /usr/sbin/inspircd ]; then
  mkdir -p "$dir/inspircd"; chown irc "$dir/inspircd" 2>/dev/null
  # No host name lookup: with one (no resolver here) the welcome comes a
  # second after the lookup notice, past the prober's read of the reply.
  cat >"$dir/inspircd/inspircd.conf" <<CONF
<server name="irc2.portolan.test" description="portolan test" network="Portolan">
<admin name="portolan" nick="portolan" email="test@portolan.invalid">
<bind address="$ADDR" port="$P_INSP" type="clients">
<connect allow="*" timeout="60" pingfreq="120" localmax="100" globalmax="100" maxconnwarn="off" useident="no" resolvehostnames="no">
<class name="users" commands="*">
<pid file="$dir/inspircd/inspircd.pid">
<dns server="127.0.0.1" timeout="1">
<security hidesplits="no">
CONF
  launch inspircd $P_INSP /usr/sbin/inspircd --nofork --nopid --config "$dir/inspircd/inspircd.conf" --runasroot
fi
if [ -x /usr/sbin/bitlbee ]; then
  mkdir -p "$dir/bitlbee"; chown bitlbee "$dir/bitlbee" 2>/dev/null
  printf '[settings]\nRunMode = ForkDaemon\nUser = bitlbee\nDaemonInterface = %s\nDaemonPort = %s\nConfigDir = %s/bitlbee\nPidFile = %s/bitlbee/bitlbee.pid\n' \
    "$ADDR" $P_BITLBEE "$dir" "$dir" >"$dir/bitlbee/bitlbee.conf"
  launch bitlbee $P_BITLBEE /usr/sbin/bitlbee -F -n -c "$dir/bitlbee/bitlbee.conf" -d "$dir/bitlbee"
fi
if [ -x /usr/sbin/nrpe ]; then
  printf 'server_port=5666\nserver_address=%s\nallowed_hosts=127.0.0.1,198.18.0.0/15,::1\nnrpe_user=nagios\nnrpe_group=nagios\npid_file=%s/nrpe.pid\ndont_blame_nrpe=0\ncommand[check_portolan]=/bin/true\n' \
    "$ADDR" "$dir" >"$dir/nrpe.cfg"
  launch nrpe 5666 /usr/sbin/nrpe -c "$dir/nrpe.cfg" -f -n
fi
if [ -x /usr/sbin/gmond ]; then
  printf 'globals {\n daemonize = no\n setuid = no\n debug_level = 0\n mute = yes\n deaf = no\n host_dmax = 0\n cleanup_threshold = 300\n gexec = no\n send_metadata_interval = 0\n}\ncluster { name = "portolan" }\ntcp_accept_channel { bind = %s\n port = %s }\n' \
    "$ADDR" $P_GMOND >"$dir/gmond.conf"
  launch gmond $P_GMOND /usr/sbin/gmond -f -c "$dir/gmond.conf"
fi
if [ -x /usr/sbin/gpsd ]; then
  launch gpsd $P_GPSD /usr/sbin/gpsd -N -n -G -S $P_GPSD -F "$dir/gpsd.sock"
fi
if [ -x /usr/bin/monit ]; then
  printf 'set daemon 60\nset pidfile %s/monit.pid\nset idfile %s/monit.id\nset statefile %s/monit.state\nset httpd port %s and use address %s\n  allow 0.0.0.0/0.0.0.0\n' \
    "$dir" "$dir" "$dir" $P_MONIT "$ADDR" >"$dir/monitrc"; chmod 600 "$dir/monitrc"
  launch monit $P_MONIT /usr/bin/monit -I -c "$dir/monitrc"
fi
if [ -x /usr/sbin/rsyslogd ] && [ -f /usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so ]; then
  printf 'global(workDirectory="%s")\nmodule(load="imrelp")\ninput(type="imrelp" port="2514" address="%s")\n*.* %s/rsyslog.out\n' "$dir" "$ADDR" "$dir" >"$dir/rsyslog.conf"
  launch rsyslog-relp 2514 /usr/sbin/rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid"
fi
if [ -x /usr/bin/Xvfb ]; then
  launch xvfb $P_X11 /usr/bin/Xvfb :$((P_X11 - 6000)) -listen tcp -ac -nolisten local
fi
if [ -x /usr/sbin/kamailio ]; then
  mkdir -p "$dir/kamailio"
  cat >"$dir/kamailio/kamailio.cfg" <<CONF
#!KAMAILIO
listen=udp:$ADDR:$P_SIP
listen=tcp:$ADDR:$P_SIP
children=1
log_stderror=yes
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
request_route {
  if (method == "OPTIONS") { sl_send_reply("200", "OK"); exit; }
  sl_send_reply("404", "Not here");
}
CONF
  launch kamailio $P_SIP /usr/sbin/kamailio -DD -E -f "$dir/kamailio/kamailio.cfg" -Y "$dir/kamailio" -P "$dir/kamailio/pid"
fi
if [ -x /usr/sbin/murmurd ]; then
  mkdir -p "$dir/murmur"; chown mumble-server "$dir/murmur" 2>/dev/null
  # No autoban: a scan's connections count as failed attempts (10 in
  # 120 s ban the address for 300 s), and the test scans twice.
  printf 'database=%s/murmur/murmur.sqlite\nhost=%s\nport=64738\nlogfile=\npidfile=\nautobanAttempts=0\n' "$dir" "$ADDR" >"$dir/murmur/murmur.ini"
  launch murmur-tls 64738 /usr/sbin/murmurd -fg -ini "$dir/murmur/murmur.ini"
fi
if [ -x /usr/sbin/openvpn ]; then
  mkdir -p "$dir/openvpn"
  [ -f "$dir/openvpn/vpn.crt" ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/openvpn/vpn.key" -out "$dir/openvpn/vpn.crt" -days 2 -subj "/CN=portolan-vpn" >/dev/null 2>&1
  # Server mode (point-to-point TCP takes one client at a time, and the
  # prober's other connections would hold it); its tun device gets no
  # address and no route.
  launch openvpn 1194 /usr/sbin/openvpn --mode server --tls-server --proto tcp-server --local "$ADDR" --lport 1194 \
    --dev ptln0 --dev-type tun --topology subnet --ifconfig 10.98.0.1 255.255.255.0 --ifconfig-noexec --route-noexec \
    --ca "$dir/openvpn/vpn.crt" --cert "$dir/openvpn/vpn.crt" --key "$dir/openvpn/vpn.key" --dh none --verb 1 \
    --management "$ADDR" 27505
  ready 27505 && echo "openvpn-mgmt 27505"
fi
if [ -x /usr/sbin/xl2tpd ]; then
  printf '[global]\nlisten-addr = %s\nport = 1701\n[lns default]\nip range = 10.99.0.2-10.99.0.9\nlocal ip = 10.99.0.1\n' "$ADDR" >"$dir/xl2tpd.conf"
  launch_udp xl2tpd 1701 /usr/sbin/xl2tpd -D -c "$dir/xl2tpd.conf" -p "$dir/xl2tpd.pid" -C "$dir/xl2tpd.control"
fi
if [ -x /usr/bin/coap-server-notls ]; then
  launch_udp coap 5683 /usr/bin/coap-server-notls -A "$ADDR" -p 5683
fi
