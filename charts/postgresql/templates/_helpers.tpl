{{- define "postgresql.fullname" -}}
{{- default .Release.Name .Values.fullname | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "postgresql.selectorLabels" -}}
{{- if .Values.selectorLabels -}}
{{- toYaml .Values.selectorLabels -}}
{{- else -}}
app.kubernetes.io/instance: {{ include "postgresql.fullname" . }}
{{- end -}}
{{- end -}}

{{- define "postgresql.labels" -}}
{{- $selector := fromYaml (include "postgresql.selectorLabels" .) -}}
{{- toYaml (merge (dict) .Values.labels $selector) -}}
{{- end -}}
