{{/*
Expand the name of the chart.
*/}}
{{- define "pack-model.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A default fully qualified app name (63 characters at most, the DNS label limit).
If the release name contains the chart name it is used as the full name.
*/}}
{{- define "pack-model.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version as used by the chart label.
*/}}
{{- define "pack-model.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A string as a label value: allowed characters only, 63 at most, alphanumeric at both ends.
*/}}
{{- define "pack-model.labelValue" -}}
{{- regexReplaceAll "[^A-Za-z0-9_.-]+" (toString .) "_" | trunc 63 | trimAll "_.-" }}
{{- end }}

{{/*
Common labels, with the model's name and version.
*/}}
{{- define "pack-model.labels" -}}
helm.sh/chart: {{ include "pack-model.chart" . }}
{{ include "pack-model.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ include "pack-model.labelValue" .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/component: model-server
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.model.name }}
pack.model/name: {{ include "pack-model.labelValue" . | quote }}
{{- end }}
{{- with .Values.model.version }}
pack.model/version: {{ include "pack-model.labelValue" . | quote }}
{{- end }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "pack-model.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pack-model.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The model's full identity (the source URI and checksum do not fit in label values).
*/}}
{{- define "pack-model.annotations" -}}
{{- range $key, $value := .Values.model }}
{{- if $value }}
pack.model/{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest, or repository:tag (tag defaults to the appVersion).
*/}}
{{- define "pack-model.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}
{{- end }}

{{/*
The name of the service account to use.
*/}}
{{- define "pack-model.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pack-model.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}
