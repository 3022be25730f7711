; The afstudio installer for 64-bit Windows (NSIS 3). packaging/package.sh
; builds it with Debian's makensis:
;
;   makensis -DVERSION=0.1.0 -DVERSION4=0.1.0.1 -DSRCDIR=DIR -DOUTFILE=FILE afstudio.nsi
;
; VERSION is the release (the VERSION file), VERSION4 the same with
; FyneApp.toml's Build as a fourth part, SRCDIR holds afstudio.exe and
; afstudio.ico, OUTFILE is the setup program to write.
;
; It installs afstudio.exe to Program Files\afstudio, adds Start menu entries
; (and, if chosen, a desktop shortcut), registers an uninstaller in "Apps" /
; "Add or remove programs", and associates .star files with afstudio: opening
; one runs `afstudio.exe "FILE"`, which opens the studio with that file added.
; The default integrations are inside afstudio.exe: there is nothing else to
; install. Silent install: setup.exe /S [/D=DIR]; silent uninstall:
; uninstall.exe /S.

!macro _require NAME
  !ifndef ${NAME}
    !error "define ${NAME} with -D${NAME}=... (see the head of this file)"
  !endif
!macroend
!insertmacro _require VERSION
!insertmacro _require VERSION4
!insertmacro _require SRCDIR
!insertmacro _require OUTFILE

Unicode true
Target amd64-unicode
ManifestDPIAware true
ManifestSupportedOS Win10
SetCompressor /SOLID lzma
RequestExecutionLevel admin

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"

!define APP "afstudio"
!define PROGID "afstudio.star"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\afstudio"
!define APPPATHKEY "Software\Microsoft\Windows\CurrentVersion\App Paths\afstudio.exe"
!define HOMEPAGE "https://github.com/afstudio/afstudio"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP}"
InstallDirRegKey HKLM "${UNINSTKEY}" "InstallLocation"
BrandingText "${APP} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} ${VERSION} setup"
VIAddVersionKey "CompanyName" "${APP}"
VIAddVersionKey "LegalCopyright" "The afstudio authors"

!define MUI_ICON "${SRCDIR}\afstudio.ico"
!define MUI_UNICON "${SRCDIR}\afstudio.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

Section "afstudio (required)" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "${SRCDIR}\afstudio.exe"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; "Apps" / "Add or remove programs".
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayName" "${APP}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTKEY}" "Publisher" "${APP}"
  WriteRegStr HKLM "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\afstudio.exe,0"
  WriteRegStr HKLM "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegStr HKLM "${UNINSTKEY}" "URLInfoAbout" "${HOMEPAGE}"
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTKEY}" "EstimatedSize" "$0"

  ; Lets Win+R and "start afstudio" find it without a PATH change.
  WriteRegStr HKLM "${APPPATHKEY}" "" "$INSTDIR\afstudio.exe"
SectionEnd

Section "Start menu entries" SecStartMenu
  CreateDirectory "$SMPROGRAMS\${APP}"
  CreateShortcut "$SMPROGRAMS\${APP}\${APP}.lnk" "$INSTDIR\afstudio.exe" "" "$INSTDIR\afstudio.exe" 0
  CreateShortcut "$SMPROGRAMS\${APP}\Uninstall ${APP}.lnk" "$INSTDIR\uninstall.exe"
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${APP}.lnk" "$INSTDIR\afstudio.exe" "" "$INSTDIR\afstudio.exe" 0
SectionEnd

Section "Open .star files with afstudio" SecAssoc
  WriteRegStr HKLM "Software\Classes\.star" "" "${PROGID}"
  WriteRegStr HKLM "Software\Classes\.star\OpenWithProgids" "${PROGID}" ""
  WriteRegStr HKLM "Software\Classes\${PROGID}" "" "Starlark integration"
  WriteRegStr HKLM "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\afstudio.exe,0"
  WriteRegStr HKLM "Software\Classes\${PROGID}\shell" "" "open"
  WriteRegStr HKLM "Software\Classes\${PROGID}\shell\open\command" "" '"$INSTDIR\afstudio.exe" "%1"'
  ; "Open with" lists afstudio for .star files even where another program
  ; owns the extension.
  WriteRegStr HKLM "Software\Classes\Applications\afstudio.exe" "FriendlyAppName" "${APP}"
  WriteRegStr HKLM "Software\Classes\Applications\afstudio.exe\SupportedTypes" ".star" ""
  WriteRegStr HKLM "Software\Classes\Applications\afstudio.exe\shell\open\command" "" '"$INSTDIR\afstudio.exe" "%1"'
  ; SHCNE_ASSOCCHANGED: Explorer picks up the new association at once.
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} "The afstudio program, with the default integrations built in, and its uninstaller."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecStartMenu} "An afstudio folder in the Start menu."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "An afstudio shortcut on the desktop."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAssoc} "Opening a .star file opens it in afstudio."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Section "Uninstall"
  Delete "$INSTDIR\afstudio.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  Delete "$SMPROGRAMS\${APP}\${APP}.lnk"
  Delete "$SMPROGRAMS\${APP}\Uninstall ${APP}.lnk"
  RMDir "$SMPROGRAMS\${APP}"
  Delete "$DESKTOP\${APP}.lnk"

  ; The .star association: take back only what is ours.
  ReadRegStr $0 HKLM "Software\Classes\.star" ""
  ${If} $0 == "${PROGID}"
    DeleteRegValue HKLM "Software\Classes\.star" ""
  ${EndIf}
  DeleteRegValue HKLM "Software\Classes\.star\OpenWithProgids" "${PROGID}"
  DeleteRegKey /ifempty HKLM "Software\Classes\.star\OpenWithProgids"
  DeleteRegKey /ifempty HKLM "Software\Classes\.star"
  DeleteRegKey HKLM "Software\Classes\${PROGID}"
  DeleteRegKey HKLM "Software\Classes\Applications\afstudio.exe"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'

  DeleteRegKey HKLM "${APPPATHKEY}"
  DeleteRegKey HKLM "${UNINSTKEY}"
  ; Settings and the integration folder in the user's profile are left alone.
SectionEnd
