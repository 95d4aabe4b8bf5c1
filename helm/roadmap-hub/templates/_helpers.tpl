{{/*
Names, labels and the target placement shared by every template.
*/}}

{{- define "roadmap-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or the release name alone when it already contains the chart name. */}}
{{- define "roadmap-hub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "roadmap-hub.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a deployment's Deployment, Service, HPA and PDB. Input: dict root, name. */}}
{{- define "roadmap-hub.componentName" -}}
{{- printf "%s-%s" (include "roadmap-hub.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels. Input: dict root, component (a deployment's name; optional). */}}
{{- define "roadmap-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "roadmap-hub.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/* Recommended labels. Input: dict root, component (optional). */}}
{{- define "roadmap-hub.labels" -}}
helm.sh/chart: {{ include "roadmap-hub.chart" .root }}
{{ include "roadmap-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: roadmap-hub
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{- define "roadmap-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "roadmap-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "roadmap-hub.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret with DATABASE_URL and REDIS_URL used by the deployments. */}}
{{- define "roadmap-hub.secretName" -}}
{{- .Values.secret.existingSecret | default (include "roadmap-hub.fullname" .) -}}
{{- end -}}

{{/* The Secret the migration hook reads: the existing one, or a hook-scoped copy. */}}
{{- define "roadmap-hub.migrationSecretName" -}}
{{- .Values.secret.existingSecret | default (printf "%s-migration" (include "roadmap-hub.fullname" .) | trunc 63 | trimSuffix "-") -}}
{{- end -}}

{{- define "roadmap-hub.routerConfigMapName" -}}
{{- printf "%s-router" (include "roadmap-hub.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Every target, in the order `roadmap-hub serve` sorts them. */}}
{{- define "roadmap-hub.allTargets" -}}plans,indicators,people,events,gateway,web{{- end -}}

{{/*
One deployment entry with deploymentDefaults merged under it. Input: dict root, deployment.
Output: YAML.
*/}}
{{- define "roadmap-hub.deployment" -}}
{{- $merged := mergeOverwrite (deepCopy .root.Values.deploymentDefaults) (deepCopy .deployment) -}}
{{- toYaml $merged -}}
{{- end -}}

{{/*
Targets of one deployment entry, `all` expanded, in canonical order, comma-separated.
Input: the deployment entry.
*/}}
{{- define "roadmap-hub.deploymentTargets" -}}
{{- $all := splitList "," (include "roadmap-hub.allTargets" .) -}}
{{- $name := .name -}}
{{- $wanted := list -}}
{{- range $t := (required (printf "deployments[%s].targets is required" $name) .targets) -}}
{{- if eq (toString $t) "all" -}}
{{- $wanted = concat $wanted $all -}}
{{- else if has (toString $t) $all -}}
{{- $wanted = append $wanted (toString $t) -}}
{{- else -}}
{{- fail (printf "deployments[%s]: unknown target %q; expected plans, indicators, people, events, gateway, web or all" $name (toString $t)) -}}
{{- end -}}
{{- end -}}
{{- $out := list -}}
{{- range $all -}}
{{- if has . $wanted -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- if not $out -}}
{{- fail (printf "deployments[%s].targets is empty" $name) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}

{{/*
Where each target runs: {target: {deployment: <name>, port: <port>}}, as YAML. Fails unless the
deployment names are valid and unique and every target runs in exactly one deployment.
*/}}
{{- define "roadmap-hub.placement" -}}
{{- $root := . -}}
{{- $placement := dict -}}
{{- $names := list -}}
{{- if not .Values.deployments -}}
{{- fail "deployments is empty: list at least one deployment (targets: [all] runs everything)" -}}
{{- end -}}
{{- range $d := .Values.deployments -}}
{{- $name := toString (required "every deployment needs a name" $d.name) -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "deployments[%s]: the name must be a DNS label (lowercase letters, digits, '-')" $name) -}}
{{- end -}}
{{- if has $name $names -}}
{{- fail (printf "deployments: the name %s is used twice" $name) -}}
{{- end -}}
{{- $names = append $names $name -}}
{{- $targets := splitList "," (include "roadmap-hub.deploymentTargets" $d) -}}
{{- if and $d.port (gt (len $targets) 1) -}}
{{- fail (printf "deployments[%s]: port applies to a single-target deployment; set the top-level ports instead" $name) -}}
{{- end -}}
{{- range $t := $targets -}}
{{- if hasKey $placement $t -}}
{{- fail (printf "target %s runs in deployments %s and %s; each target must run in exactly one" $t (get $placement $t).deployment $name) -}}
{{- end -}}
{{- $port := $d.port | default (index $root.Values.ports $t) | required (printf "ports.%s is required" $t) | int -}}
{{- if or (lt $port 1) (gt $port 65535) -}}
{{- fail (printf "deployments[%s]: port %d of %s is out of range" $name $port $t) -}}
{{- end -}}
{{- $_ := set $placement $t (dict "deployment" $name "port" $port) -}}
{{- end -}}
{{- end -}}
{{- range splitList "," (include "roadmap-hub.allTargets" .) -}}
{{- if not (hasKey $placement .) -}}
{{- fail (printf "no deployment runs target %s; add it to some deployment's targets (or use targets: [all])" .) -}}
{{- end -}}
{{- end -}}
{{- toYaml $placement -}}
{{- end -}}

{{/* Pod security and scheduling shared by the deployments and the migration job. Input: root. */}}
{{- define "roadmap-hub.podSecurity" -}}
enableServiceLinks: false
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}
