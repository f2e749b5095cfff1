//! The checks, one module each. Adding one: write its module (a unit
//! struct implementing [`Check`](crate::Check) with a `static` info) and
//! list it in [`ALL`].

mod couchdb_databases;
mod docker_version;
mod elasticsearch_info;
mod etcd_version;
mod ftp_anon;
mod http_ls;
mod http_open_proxy;
mod http_title;
mod ldap_rootdse;
mod memcached_info;
mod mongodb_databases;
mod nfs_showmount;
mod rdp_security;
mod redis_info;
mod rsync_list;
mod smb2_security_mode;
mod smb_protocols;
mod snmp_sysdescr;
mod telnet_info;
mod tls_cert;
mod tls_versions;
mod vnc_info;

use crate::Check;

/// Every check, in the order they are listed by `--script help`.
pub(crate) static ALL: &[&dyn Check] = &[
    &couchdb_databases::CouchDbDatabases,
    &docker_version::DockerVersion,
    &elasticsearch_info::ElasticsearchInfo,
    &etcd_version::EtcdVersion,
    &ftp_anon::FtpAnon,
    &http_ls::HttpLs,
    &http_open_proxy::HttpOpenProxy,
    &http_title::HttpTitle,
    &ldap_rootdse::LdapRootDse,
    &memcached_info::MemcachedInfo,
    &memcached_info::MemcachedUdp,
    &mongodb_databases::MongoDbDatabases,
    &redis_info::RedisInfo,
    &rsync_list::RsyncList,
    &snmp_sysdescr::SnmpSysDescr,
    &tls_cert::TlsCert,
    &tls_versions::TlsVersions,
    &vnc_info::VncInfo,
    &smb_protocols::SmbProtocols,
    &smb2_security_mode::Smb2SecurityMode,
    &telnet_info::TelnetInfo,
    &rdp_security::RdpSecurity,
    &nfs_showmount::NfsShowmount,
];
