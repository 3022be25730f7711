package supervise

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// newJob creates an unnamed Job object with the limits in flags
// (JOB_OBJECT_LIMIT_*) and, when flags has JOB_OBJECT_LIMIT_PROCESS_MEMORY,
// processMemory as the most memory (committed bytes) any one process in
// the job may use. The caller closes the handle.
func newJob(flags uint32, processMemory uintptr) (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateJobObject: %w", err)
	}
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = flags
	info.ProcessMemoryLimit = processMemory
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("SetInformationJobObject (limit flags %#x): %w", flags, err)
	}
	return job, nil
}

// jobLimits reads the limits of job; job 0 is the job the calling
// process is in (the innermost one when jobs are nested).
func jobLimits(job windows.Handle) (windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION, error) {
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	err := windows.QueryInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	if err != nil {
		return info, fmt.Errorf("QueryInformationJobObject: %w", err)
	}
	return info, nil
}
