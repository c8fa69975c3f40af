{{/*
Names, labels, images and the DEIS_* environment shared by every platform service.

The environment mirrors the embedded platform's contract (deploy/local/src/deis_platform/env_contract.py):
a variable added there and not here (or the reverse) is a bug in one of them. Differences that come from
running in pods: HTTP endpoints bind 0.0.0.0 (kubelet probes come from outside the pod), the object store
is S3 (MinIO or off-cluster), and peers are reached through Services instead of loopback ports.
*/}}

{{- define "workflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "workflow.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: workflow-controller, workflow-nats, ... ; call with (list $ "controller") */}}
{{- define "workflow.component" -}}
{{- printf "%s-%s" (include "workflow.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{- define "workflow.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "workflow.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "workflow.labels" -}}
{{- $root := index . 0 -}}
{{ include "workflow.selectorLabels" . }}
app.kubernetes.io/part-of: deis-workflow
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
heritage: deis
{{- end -}}

{{/* An image reference; call with (list $ .Values.controller.image) */}}
{{- define "workflow.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- $registry := default $root.Values.image.registry $image.registry -}}
{{- $tag := default (default $root.Chart.AppVersion $root.Values.image.tag) $image.tag -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry $image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* imagePullSecrets of a pod spec at the given indentation; nothing without pull secrets.
Call with (list $ <indent>). */}}
{{- define "workflow.imagePullSecrets" -}}
{{- $root := index . 0 -}}
{{- with $root.Values.image.pullSecrets }}
{{- $secrets := list }}
{{- range . }}{{ $secrets = append $secrets (dict "name" .) }}{{ end }}
{{- dict "imagePullSecrets" $secrets | toYaml | nindent (index $ 1) }}
{{- end }}
{{- end -}}

{{/* Where a platform pod may run: the nodeSelector, tolerations and affinity values, at indentation 6. */}}
{{- define "workflow.scheduling" -}}
{{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
{{- end }}
{{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
{{- end }}
{{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
{{- end }}
{{- end -}}

{{- define "workflow.secretName" -}}
{{- include "workflow.component" (list . "secrets") -}}
{{- end -}}

{{/*
A generated secret value that survives upgrades: the value already stored in the release's Secret when
there is one (lookup), else a new random one. Call with (dict "root" $ "name" <secret> "key" <key> "length" N).
Offline rendering (helm template, tests) sees no cluster and always generates.
*/}}
{{- define "workflow.keptSecret" -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .name -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum (int .length) -}}
{{- end -}}
{{- end -}}

{{- define "workflow.natsAuthName" -}}
{{- include "workflow.component" (list . "nats-auth") -}}
{{- end -}}

{{- define "workflow.natsUrl" -}}
{{- if .Values.nats.external.url -}}
{{- .Values.nats.external.url -}}
{{- else -}}
{{- printf "nats://%s:4222" (include "workflow.component" (list . "nats")) -}}
{{- end -}}
{{- end -}}

{{/* JetStream stream replicas: 3 on a cluster of 3 or more, else 1. */}}
{{- define "workflow.streamReplicas" -}}
{{- if .Values.nats.external.url -}}
{{- .Values.nats.external.streamReplicas -}}
{{- else if ge (int .Values.nats.replicas) 3 -}}
3
{{- else -}}
1
{{- end -}}
{{- end -}}

{{- define "workflow.controllerUrl" -}}
{{- printf "http://%s:%d" (include "workflow.component" (list . "controller")) (int .Values.controller.service.port) -}}
{{- end -}}

{{/* Base of the git remote users push to (`deis create` adds <base>/<app>.git). */}}
{{- define "workflow.builderUrl" -}}
{{- default (printf "ssh://git@deis-builder.%s:2222" .Values.platform.domain) .Values.builder.url -}}
{{- end -}}

{{- define "workflow.databaseEnabled" -}}
{{- if not .Values.database.external.url -}}true{{- end -}}
{{- end -}}

{{- define "workflow.minioEnabled" -}}
{{- if .Values.minio.enabled -}}true{{- end -}}
{{- end -}}

{{- define "workflow.s3Endpoint" -}}
{{- if .Values.minio.enabled -}}
{{- /* fully qualified: app pods (slugrunner) in their own namespaces fetch slugs from here */ -}}
{{- printf "http://%s.%s.svc:9000" (include "workflow.component" (list . "minio")) .Release.Namespace -}}
{{- else -}}
{{- .Values.storage.s3.endpoint -}}
{{- end -}}
{{- end -}}

{{/* True when the services get S3 keys from the release Secret (MinIO, or keys given in values). */}}
{{- define "workflow.s3Keys" -}}
{{- if or .Values.minio.enabled .Values.storage.s3.accessKey -}}true{{- end -}}
{{- end -}}

{{/* Where images are pushed (the builder) and pulled from (kubelet, through the node-local proxy). */}}
{{- define "workflow.registryPushHost" -}}
{{- if .Values.registry.external.host -}}
{{- .Values.registry.external.host -}}
{{- else -}}
{{- printf "%s.%s.svc:5000" (include "workflow.component" (list . "registry")) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{- define "workflow.registryPullHost" -}}
{{- if .Values.registry.external.host -}}
{{- .Values.registry.external.host -}}
{{- else -}}
{{- printf "127.0.0.1:%d" (int .Values.registry.proxy.hostPort) -}}
{{- end -}}
{{- end -}}

{{/* The bucket names the platform uses (deis_common.store: bucket prefix + name). */}}
{{- define "workflow.buckets" -}}
{{- $prefix := .Values.storage.s3.bucketPrefix -}}
{{- printf "%sbuilder %sregistry %sdatabase" $prefix $prefix $prefix -}}
{{- end -}}

{{/*
The environment every service gets. Call with (list $ "<service>" <http port>); the service connects to NATS
as its own user (workflow-nats-auth). A tool that runs with a service's settings but never talks to NATS
(Postgres running `deis-backup wal-push`) passes a fourth element, false, and gets no NATS login.
*/}}
{{- define "workflow.commonEnv" -}}
{{- $root := index . 0 -}}
{{- $service := index . 1 -}}
{{- $port := index . 2 -}}
- name: DEIS_NATS__URL
  value: {{ include "workflow.natsUrl" $root | quote }}
{{- if or (lt (len .) 4) (index . 3) }}
- name: DEIS_NATS__USER
  value: {{ $service | quote }}
- name: DEIS_NATS__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.natsAuthName" $root }}
      key: {{ printf "%s-password" $service }}
{{- end }}
- name: DEIS_NATS__STREAM_REPLICAS
  value: {{ include "workflow.streamReplicas" $root | quote }}
- name: DEIS_HTTP__HOST
  value: "0.0.0.0"
- name: DEIS_HTTP__PORT
  value: {{ $port | quote }}
- name: DEIS_STORE__DRIVER
  value: "s3"
{{- with include "workflow.s3Endpoint" $root }}
- name: DEIS_STORE__S3__ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: DEIS_STORE__S3__REGION
  value: {{ $root.Values.storage.s3.region | quote }}
- name: DEIS_STORE__S3__PATH_STYLE
  value: {{ $root.Values.storage.s3.pathStyle | toString | quote }}
- name: DEIS_STORE__S3__BUCKET_PREFIX
  value: {{ $root.Values.storage.s3.bucketPrefix | quote }}
{{- if include "workflow.s3Keys" $root }}
- name: DEIS_STORE__S3__ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" $root }}
      key: s3-access-key
- name: DEIS_STORE__S3__SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" $root }}
      key: s3-secret-key
{{- end }}
- name: DEIS_PLATFORM_DOMAIN
  value: {{ $root.Values.platform.domain | quote }}
- name: DEIS_CONTROLLER_URL
  value: {{ include "workflow.controllerUrl" $root | quote }}
- name: DEIS_BUILDER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" $root }}
      key: builder-key
- name: DEIS_LOG_JSON
  value: "true"
- name: DEIS_LOG_LEVEL
  value: {{ $root.Values.platform.logLevel | quote }}
- name: DEIS_ROUTER_PORT
  value: {{ $root.Values.platform.routerPort | quote }}
{{- end -}}

{{/*
Where a service's database login comes from. Call with (list $ "controller") or (list $ "backup"): each has a
role of its own in the in-cluster database; an external database has the one URL (credentials included).
*/}}
{{- define "workflow.databaseEnv" -}}
{{- $root := index . 0 -}}
{{- $backup := eq (index . 1) "backup" -}}
- name: DEIS_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" $root }}
      key: {{ ternary "database-backup-url" "database-url" $backup }}
{{- if include "workflow.databaseEnabled" $root }}
- name: DEIS_DATABASE__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" $root }}
      key: {{ ternary "database-backup-password" "database-controller-password" $backup }}
{{- end }}
{{- end -}}

{{/* The registry settings the builder (push) and the scheduler (pull) share. */}}
{{- define "workflow.registryEnv" -}}
- name: DEIS_REGISTRY__HOST
  value: {{ include "workflow.registryPushHost" . | quote }}
- name: DEIS_REGISTRY__PULL_HOST
  value: {{ include "workflow.registryPullHost" . | quote }}
- name: DEIS_REGISTRY__INSECURE
  value: {{ (not .Values.registry.external.host) | toString | quote }}
{{- if .Values.registry.external.username }}
- name: DEIS_REGISTRY__USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" . }}
      key: registry-username
- name: DEIS_REGISTRY__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "workflow.secretName" . }}
      key: registry-password
{{- end }}
{{- end -}}

{{/* Pod annotations that let a Prometheus scrape the service's /metrics (deis_* metrics). */}}
{{- define "workflow.metricsAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ . | quote }}
prometheus.io/path: /metrics
{{- end -}}

{{/* Changes when credentials given in values change (not the generated ones, which are kept), so the
pods reading them restart on `helm upgrade`. */}}
{{- define "workflow.credentialsChecksum" -}}
{{- $given := dict "s3" .Values.storage.s3 "database" .Values.database.external "registry" .Values.registry.external -}}
checksum/credentials: {{ toJson $given | sha256sum | trunc 16 | quote }}
{{- end -}}

{{- define "workflow.probes" -}}
{{- $port := . -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ $port }}
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ $port }}
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readiness
    port: {{ $port }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{/* Pod-level security for our Python services: the images' `deis` user (uid 1000). */}}
{{- define "workflow.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  fsGroup: 1000
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "workflow.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: {{ .Values.security.readOnlyRootFilesystem }}
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* router-sync's environment (the service, and the bootstrap config written before nginx starts). */}}
{{- define "workflow.routerSyncEnv" -}}
{{- $controllerHost := printf "%s.%s.svc" (include "workflow.component" (list . "controller")) .Release.Namespace -}}
{{- include "workflow.commonEnv" (list . "router-sync" 8094) }}
- name: DEIS_ROUTER__PREFIX
  value: /router
- name: DEIS_ROUTER__LISTEN_HOST
  value: "0.0.0.0"
- name: DEIS_ROUTER__HTTP_PORT
  value: "8080"
- name: DEIS_ROUTER__HTTPS_PORT
  value: "8443"
# the Service maps 443 to 8443: https redirects leave the port out
- name: DEIS_ROUTER__REDIRECT_HTTPS_PORT
  value: "443"
- name: DEIS_ROUTER__CONTROLLER_HOST
  value: {{ $controllerHost | quote }}
- name: DEIS_ROUTER__CONTROLLER_PORT
  value: {{ .Values.controller.service.port | quote }}
- name: DEIS_ROUTER__INSTANCE
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- with .Values.router.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}
