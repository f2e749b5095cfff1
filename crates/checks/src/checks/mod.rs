//! The checks, one module each. Adding one: write its module (a unit
//! struct implementing [`Check`](crate::Check) with a `static` info) and
//! list it in [`ALL`].

mod couchdb_databases;
mod docker_version;
mod elasticsearch_info;
mod etcd_version;
mod ftp_anon;
mod hadoop_namenode;
mod http_ls;
mod http_open_proxy;
mod http_title;
mod kubelet_pods;
mod ldap_rootdse;
mod memcached_info;
mod mongodb_databases;
mod ms_sql_info;
mod mysql_info;
mod nfs_showmount;
mod pgsql_info;
mod rdp_security;
mod redis_info;
mod rsync_list;
mod smb2_security_mode;
mod smb_protocols;
mod snmp_sysdescr;
mod ssl_cert_weak_key;
mod ssl_heartbleed;
mod telnet_info;
mod tls_cert;
mod tls_versions;
mod vnc_info;
mod weblogic_t3;
mod zebra_vty;

use crate::Check;

/// Every check, in the order they are listed by `--script help`
/// (alphabetical by module).
pub(crate) static ALL: &[&dyn Check] = &[
    &couchdb_databases::CouchDbDatabases,
    &docker_version::DockerVersion,
    &elasticsearch_info::ElasticsearchInfo,
    &etcd_version::EtcdVersion,
    &ftp_anon::FtpAnon,
    &hadoop_namenode::HadoopNameNode,
    &http_ls::HttpLs,
    &http_open_proxy::HttpOpenProxy,
    &http_title::HttpTitle,
    &kubelet_pods::KubeletPods,
    &ldap_rootdse::LdapRootDse,
    &memcached_info::MemcachedInfo,
    &memcached_info::MemcachedUdp,
    &mongodb_databases::MongoDbDatabases,
    &ms_sql_info::MsSqlInfo,
    &mysql_info::MysqlInfo,
    &nfs_showmount::NfsShowmount,
    &pgsql_info::PgsqlInfo,
    &rdp_security::RdpSecurity,
    &redis_info::RedisInfo,
    &rsync_list::RsyncList,
    &smb2_security_mode::Smb2SecurityMode,
    &smb_protocols::SmbProtocols,
    &snmp_sysdescr::SnmpSysDescr,
    &ssl_cert_weak_key::SslCertWeakKey,
    &ssl_heartbleed::SslHeartbleed,
    &telnet_info::TelnetInfo,
    &tls_cert::TlsCert,
    &tls_versions::TlsVersions,
    &vnc_info::VncInfo,
    &weblogic_t3::WeblogicT3,
    &zebra_vty::ZebraVty,
];
