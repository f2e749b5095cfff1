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
mod redis_info;
mod rsync_list;
mod snmp_sysdescr;
mod tls_cert;
mod tls_versions;
// checks-b (issue 14): databases, cluster APIs, routing VTY, TLS keys.
mod hadoop_namenode;
mod kubelet_pods;
mod ms_sql_info;
mod mysql_info;
mod pgsql_info;
mod ssl_cert_weak_key;
mod weblogic_t3;
mod zebra_vty;

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
    // checks-b (issue 14)
    &ms_sql_info::MsSqlInfo,
    &mysql_info::MysqlInfo,
    &pgsql_info::PgsqlInfo,
    &hadoop_namenode::HadoopNameNode,
    &kubelet_pods::KubeletPods,
    &weblogic_t3::WeblogicT3,
    &zebra_vty::ZebraVty,
    &ssl_cert_weak_key::SslCertWeakKey,
];
